"""Ingestion's composition root: settings in, a runner (and for `serve`, a service) out."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import boto3  # type: ignore[import-untyped]
import grpc
from sqlalchemy import Engine

from gamekit.clients.channels import secure_channel
from gamekit.observability import telemetry
from gamekit.paging.pages import PageBudget
from gamekit.paging.tokens import PageTokens
from gamekit.security.identity import AccessPolicy
from gamekit.serving.options import HostOptions, ServiceBinding
from games.ingestion.v1 import ingestion_pb2, ingestion_pb2_grpc
from ingestion import metrics
from ingestion.importing.feed import FeedLimits
from ingestion.importing.importer import CatalogImporter
from ingestion.ledger.database import make_engine
from ingestion.ledger.store import Ledger
from ingestion.model import RetryPolicy
from ingestion.runs.background import BackgroundRuns
from ingestion.runs.runner import Runner
from ingestion.settings import IngestionSettings, RunSettings
from ingestion.sources.s3 import S3Source, make_s3_client
from ingestion.sources.sqs_events import SqsConsumer
from ingestion.transport import converters
from ingestion.transport.servicer import IngestionServicer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SERVICE = ingestion_pb2.DESCRIPTOR.services_by_name["IngestionService"]


@dataclass
class IngestionApp:
    """Everything an ingestion process runs, built from settings; `close` releases it."""

    settings: RunSettings
    engine: Engine
    ledger: Ledger
    runner: Runner
    runs: BackgroundRuns
    s3: S3Client
    channel: grpc.Channel
    _closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def bindings(self) -> list[ServiceBinding]:
        """The IngestionService over this app's runner, background runs and ledger."""
        servicer = IngestionServicer(runner=self.runner, runs=self.runs, ledger=self.ledger)
        return [
            ServiceBinding(
                SERVICE.full_name,
                lambda server: ingestion_pb2_grpc.add_IngestionServiceServicer_to_server(servicer, server),
            )
        ]

    @property
    def host_options(self) -> HostOptions:
        """How gamekit's ServiceHost / serve runs this app: how it stops."""
        return HostOptions(drain_hooks=(self.runs.stop_accepting,), shutdown_hooks=(self.close,))

    def ready(self) -> bool:
        """SERVING only while the ledger database answers."""
        return self.ledger.ping()

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run `closer` first when the app closes (a consumer thread to stop)."""
        self._closers.insert(0, closer)

    def close(self) -> None:
        """Stop what was started, close the catalog channel and S3 client, dispose the engine."""
        for closer in self._closers:
            closer()
        if not self.runs.wait_stopped():
            return  # a run still going keeps what it uses; it ends with the process (see background)
        self.channel.close()
        self.s3.close()
        self.engine.dispose()


def page_tokens(settings: IngestionSettings) -> PageTokens:
    """Page tokens keyed by INGESTION_PAGE_TOKEN_SECRET (random per process when unset)."""
    return PageTokens.from_secret(settings.page_token_secret, setting="INGESTION_PAGE_TOKEN_SECRET")


def page_budget() -> PageBudget:
    """Pages cut below the message limit, each run, file or record measured as the servicer sends it."""
    return PageBudget(converters.wire_size)


def access_policy(settings: IngestionSettings) -> AccessPolicy:
    """Every IngestionService method for the gateway identities; nobody else."""
    return AccessPolicy.for_service(SERVICE, settings.gateway_identities)


def build_ingestion(settings: RunSettings, *, page_tokens: PageTokens | None = None) -> IngestionApp:
    """Create the engine, ledger, S3 client, catalog channel and runner from settings."""
    engine = make_engine(
        settings.database_url,
        statement_timeout=settings.db_statement_timeout_seconds,
        lock_timeout=settings.db_lock_timeout_seconds,
    )
    telemetry.instrument_engine(engine)
    sizes = (
        {"default_page_size": settings.default_page_size, "max_page_size": settings.max_page_size}
        if isinstance(settings, IngestionSettings)
        else {}
    )
    # Only `serve` hands out page tokens; a run-once process can key them at random.
    ledger = Ledger(
        engine=engine,
        page_tokens=page_tokens or PageTokens(secrets.token_bytes(32)),
        page_budget=page_budget(),
        **sizes,
    )
    s3 = make_s3_client(max_attempts=settings.s3_max_attempts)
    channel = secure_channel(
        settings.catalog_target,
        ca_file=settings.tls_ca_file,
        cert_file=settings.tls_cert_file,
        key_file=settings.tls_key_file,
        server_name=settings.catalog_server_name,
    )
    source = S3Source(
        client=s3,
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        max_bytes=settings.max_file_bytes,
        max_gzip_ratio=settings.max_gzip_ratio,
    )
    importer = CatalogImporter(
        channel=channel,
        source=source,
        batch_size=settings.import_batch_size,
        timeout=settings.catalog_timeout_seconds,
        max_attempts=settings.max_attempts,
        initial_backoff=settings.retry_initial_backoff_seconds,
        max_backoff=settings.retry_max_backoff_seconds,
        limits=FeedLimits(
            max_quarantine_ratio=settings.max_quarantine_ratio,
            max_quarantine_rows=settings.max_quarantine_rows,
            max_repair_rows=settings.max_repair_rows,
        ),
    )
    runner = Runner(
        ledger=ledger,
        source=source,
        importer=importer,
        alert_webhook_url=settings.alert_webhook_url,
        retry_policy=RetryPolicy(settings.max_file_failures, settings.file_retry_window_seconds),
    )
    # Only `serve` runs in the background; its grace period is the time a run has when it stops.
    grace = settings.grace_period_seconds if isinstance(settings, IngestionSettings) else 0.0
    app = IngestionApp(
        settings=settings,
        engine=engine,
        ledger=ledger,
        runner=runner,
        runs=BackgroundRuns(runner, grace_seconds=grace),
        s3=s3,
        channel=channel,
    )
    if isinstance(settings, IngestionSettings):
        # A service is what Prometheus scrapes; the CronJob's runs reach its gauge through the ledger.
        app.on_close(
            metrics.follow_ledger(
                ledger.last_success_time, ledger.last_rejection_time, ledger.newest_file_records
            )
        )
    return app


def start_event_consumer(app: IngestionApp, queue_url: str) -> None:
    """Consume S3 events from SQS into `runner.run_object`; stopped when the app closes."""
    sqs = boto3.client("sqs")
    consumer = SqsConsumer(queue_url=queue_url, sqs=sqs, handle=app.runner.run_object)
    consumer.start()
    app.on_close(sqs.close)
    app.on_close(consumer.stop)
