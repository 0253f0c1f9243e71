"""The catalog's composition root: settings in, a ready-to-serve set of parts out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from catalog.domain.service import CatalogService
from catalog.settings import CatalogSettings
from catalog.storage.database import make_engine
from catalog.storage.revision import RevisionFeed
from catalog.storage.search import SearchLimits
from catalog.transport import converters
from catalog.transport.servicer import CatalogServicer
from gamekit.observability import telemetry
from gamekit.paging.pages import PageBudget
from gamekit.paging.tokens import PageTokens
from gamekit.security.identity import AccessPolicy
from gamekit.serving.options import HostOptions, ServiceBinding
from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc

SERVICE = catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"]
READ_METHODS = ("GetGame", "ListGames", "SearchGames", "GetImport", "ListImports", "WatchRevision")
WRITE_METHODS = ("CreateGame", "UpdateGame", "DeleteGame", "RollbackImport")
IMPORT_METHODS = ("ImportGames",)


def access_policy(settings: CatalogSettings) -> AccessPolicy:
    """Reads for the gateway and ingestion; writes only from the gateway; imports only from ingestion."""
    gateway = AccessPolicy.for_service(
        SERVICE, settings.gateway_identities, methods=READ_METHODS + WRITE_METHODS
    )
    ingestion = AccessPolicy.for_service(
        SERVICE, settings.ingestion_identities, methods=READ_METHODS + IMPORT_METHODS
    )
    return gateway | ingestion


@dataclass
class CatalogApp:
    """Everything a catalog process runs, built from settings; `close` releases it."""

    settings: CatalogSettings
    engine: Engine
    feed: RevisionFeed
    service: CatalogService

    @property
    def bindings(self) -> list[ServiceBinding]:
        servicer = CatalogServicer(self.service)
        return [
            ServiceBinding(
                SERVICE.full_name,
                lambda server: catalog_pb2_grpc.add_CatalogServiceServicer_to_server(servicer, server),
            )
        ]

    @property
    def policy(self) -> AccessPolicy:
        return access_policy(self.settings)

    @property
    def host_options(self) -> HostOptions:
        """How gamekit's ServiceHost / serve runs this app: how it stops."""
        return HostOptions(drain_hooks=(self.end_watches,), shutdown_hooks=(self.close,))

    def ready(self) -> bool:
        """SERVING only while the database answers."""
        return self.service.ping()

    def end_watches(self) -> None:
        """End every WatchRevision stream: as stopping begins, so they do not hold the drain."""
        self.feed.close_subscriptions()

    def close(self) -> None:
        """Stop the revision feed and close every pooled connection."""
        self.feed.stop()
        self.engine.dispose()


def page_budget() -> PageBudget:
    """Pages cut below the message limit, each game or import measured as the servicer sends it.

    The servicer passes its renderings (converters.GAME_MESSAGES) and so measures the messages it sends;
    `wire_size` measures the domain values that in-process callers take.
    """
    return PageBudget(converters.wire_size)


def build_catalog(settings: CatalogSettings) -> CatalogApp:
    """Create the engine, the revision feed and the domain service from settings."""
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        statement_timeout=settings.db_statement_timeout_seconds,
        lock_timeout=settings.db_lock_timeout_seconds,
    )
    telemetry.instrument_engine(engine)
    feed = RevisionFeed(engine=engine)
    feed.start()
    service = CatalogService(
        engine=engine,
        revision_feed=feed,
        page_tokens=PageTokens.from_secret(settings.page_token_secret, setting="CATALOG_PAGE_TOKEN_SECRET"),
        page_budget=page_budget(),
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
        request_id_ttl=timedelta(seconds=settings.request_id_ttl_seconds),
        search_limits=SearchLimits(similar_candidates=settings.search_similar_candidates),
    )
    return CatalogApp(settings=settings, engine=engine, feed=feed, service=service)
