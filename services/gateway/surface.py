"""What the gateway serves: every method, the scope it needs, and how it is forwarded.

One table, read by the auth interceptor (scopes), the backend channels (which methods are idempotent,
so retried on UNAVAILABLE) and the forwarder (which responses may be cached, which calls are writes).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from games.catalog.v1 import catalog_pb2
from games.ingestion.v1 import ingestion_pb2

CATALOG = catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"]
INGESTION = ingestion_pb2.DESCRIPTOR.services_by_name["IngestionService"]

READ = "games.read"
WRITE = "games.write"
ADMIN = "ingestion.admin"
SCOPES = (READ, WRITE, ADMIN)


class Kind(enum.Enum):
    """How the gateway treats a method."""

    READ = "read"  # idempotent and cacheable until the catalog revision changes
    LOOKUP = "lookup"  # idempotent, retried, never cached (ledger and import history have no revision)
    WRITE = "write"  # changes the catalog: the cache is dropped when it returns, even with an error
    ACTION = "action"  # not idempotent, may change the catalog (a run imports): dropped like a write
    INTERNAL = "internal"  # not served to callers: UNIMPLEMENTED after authentication

    @property
    def idempotent(self) -> bool:
        """Safe to send again: retried by the backend channels and after a reconnect."""
        return self in (Kind.READ, Kind.LOOKUP)

    @property
    def changes_catalog(self) -> bool:
        """May change what reads answer, so the response cache is dropped after it."""
        return self in (Kind.WRITE, Kind.ACTION)


@dataclass(frozen=True)
class Method:
    """One served method: its scope (None: any authenticated caller) and its kind."""

    full_name: str
    scope: str | None
    kind: Kind


def _methods(service: str, scope: str | None, kind: Kind, *names: str) -> dict[str, Method]:
    return {f"/{service}/{n}": Method(f"/{service}/{n}", scope, kind) for n in names}


_C, _I = CATALOG.full_name, INGESTION.full_name
METHODS: Mapping[str, Method] = {
    **_methods(_C, READ, Kind.READ, "GetGame", "ListGames", "SearchGames"),
    **_methods(_C, WRITE, Kind.WRITE, "CreateGame", "UpdateGame", "DeleteGame"),
    **_methods(_C, ADMIN, Kind.LOOKUP, "GetImport", "ListImports"),
    **_methods(_C, ADMIN, Kind.WRITE, "RollbackImport"),
    # Ingestion streams imports straight to the catalog, and the revision watch feeds the gateway's own
    # cache: neither is a caller's business.
    **_methods(_C, None, Kind.INTERNAL, "ImportGames", "WatchRevision"),
    **_methods(_I, ADMIN, Kind.LOOKUP, "GetRun", "ListRuns", "ListFiles", "ListQuarantinedRecords"),
    **_methods(_I, ADMIN, Kind.ACTION, "RunIngestion", "AcceptFile"),
}


def idempotent_methods(service: str) -> list[str]:
    """Full names of the methods of `service` that are safe to retry."""
    return [
        name for name, method in METHODS.items() if name.startswith(f"/{service}/") and method.kind.idempotent
    ]


def _check_complete() -> None:
    served = {f"/{s.full_name}/{m.name}" for s in (CATALOG, INGESTION) for m in s.methods}
    if served != set(METHODS):
        raise RuntimeError(f"gateway surface out of date with the protos: {sorted(served ^ set(METHODS))}")


_check_complete()
