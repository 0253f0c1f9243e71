"""Who is calling: the peer's SPIFFE id from its client certificate, and which ids may call what.

The mTLS handshake already proved the certificate comes from the platform CA; here we only read the
identity it carries (its one `spiffe://` URI SAN) and check it against an `AccessPolicy`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

import grpc
from cryptography import x509
from google.protobuf.descriptor import ServiceDescriptor

# Open to any peer holding a platform certificate: probes, operators and tooling need them everywhere.
OPEN_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)


@functools.lru_cache(maxsize=256)
def spiffe_id_from_pem(pem: bytes) -> str | None:
    """The single spiffe:// URI SAN of a PEM certificate, or None if it has none or several."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    ids = [
        uri for uri in san.get_values_for_type(x509.UniformResourceIdentifier) if uri.startswith("spiffe://")
    ]
    # Two identities in one certificate would make every policy decision ambiguous: refuse both.
    return ids[0] if len(ids) == 1 else None


def peer_certificate(context: grpc.ServicerContext) -> bytes | None:
    """The PEM client certificate of the peer, when the call came over TLS with one."""
    # auth_context maps each property to a list of values; the stubs say bytes.
    auth = cast(Mapping[str, list[bytes]], context.auth_context())
    pems = auth.get("x509_pem_cert")
    return pems[0] if pems else None


def service_of(full_method: str) -> str:
    """'games.catalog.v1.CatalogService' from '/games.catalog.v1.CatalogService/GetGame'."""
    return full_method.lstrip("/").partition("/")[0]


def method_of(full_method: str) -> str:
    """'GetGame' from '/games.catalog.v1.CatalogService/GetGame'."""
    return full_method.rpartition("/")[2]


@dataclass(frozen=True)
class AccessPolicy:
    """Full method name → SPIFFE ids allowed to call it; anything not listed is denied.

    `open_to_all()` lets every caller through, with or without a certificate: for a server whose own
    interceptor authenticates callers (the gateway's API keys).
    """

    rules: Mapping[str, frozenset[str]] = field(default_factory=dict)
    any_peer: bool = False

    @classmethod
    def open_to_all(cls) -> AccessPolicy:
        """A policy allowing every method to every caller; authentication is someone else's job."""
        return cls(any_peer=True)

    @classmethod
    def of(cls, rules: Mapping[str, Iterable[str]]) -> AccessPolicy:
        """A policy from full method names to the ids allowed on each."""
        return cls({method: frozenset(ids) for method, ids in rules.items()})

    @classmethod
    def for_service(
        cls, service: ServiceDescriptor, allowed: Iterable[str], *, methods: Iterable[str] | None = None
    ) -> AccessPolicy:
        """Allow `allowed` on every method of `service`, or only on the given method names."""
        names = set(methods) if methods is not None else {m.name for m in service.methods}
        unknown = names - {m.name for m in service.methods}
        if unknown:
            raise ValueError(f"{service.full_name} has no methods {sorted(unknown)}")
        ids = frozenset(allowed)
        return cls({f"/{service.full_name}/{name}": ids for name in names})

    def __or__(self, other: AccessPolicy) -> AccessPolicy:
        merged = {method: set(ids) for method, ids in self.rules.items()}
        for method, ids in other.rules.items():
            merged.setdefault(method, set()).update(ids)
        return AccessPolicy(
            {method: frozenset(ids) for method, ids in merged.items()},
            any_peer=self.any_peer or other.any_peer,
        )

    def allows(self, full_method: str, peer: str | None, *, authenticated: bool) -> bool:
        """Whether a peer (its SPIFFE id; `authenticated` if it showed a CA-signed cert) may call."""
        if self.any_peer:
            return True
        if not authenticated:
            return False
        if service_of(full_method) in OPEN_SERVICES:
            return True
        return peer is not None and peer in self.rules.get(full_method, frozenset())
