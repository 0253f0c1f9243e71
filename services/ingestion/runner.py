"""A run: every delivery under the prefix (or the one object an event names) into the catalog.

One span per run, with the listing and one span per file below it (the S3 GET, the parse and the
catalog import under that). A run ends `succeeded` when every file was imported or skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from gamekit.errors import NotFound, Unavailable
from ingestion import metrics
from ingestion.alerts import notify_run_failed
from ingestion.claims import FileSkipped
from ingestion.importer import CatalogImporter
from ingestion.ledger import Ledger
from ingestion.model import (
    FileCounts,
    FileFailed,
    FileOutcome,
    Outcome,
    RecordCounts,
    RunSummary,
    RunTrigger,
    SourceObject,
)
from ingestion.source import S3Source, is_delivery

log = logging.getLogger(__name__)
tracer = trace.get_tracer("ingestion")


class Runner:
    """Runs ingestion over the parts it is given; safe to call from several threads at once."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        source: S3Source,
        importer: CatalogImporter,
        alert_webhook_url: str | None = None,
    ) -> None:
        self._ledger = ledger
        self._source = source
        self._importer = importer
        self._alert_webhook_url = alert_webhook_url

    def run(self, trigger: RunTrigger = RunTrigger.SCHEDULE) -> RunSummary:
        """One run over every delivery under the prefix."""
        return self._run(trigger, self._source.list_objects)

    def run_object(self, bucket: str, key: str, trigger: RunTrigger = RunTrigger.EVENT) -> bool:
        """Ingest the object an event names; True when imported or skipped (the event is done)."""
        if not is_delivery(key) or not key.startswith(self._source.prefix):
            log.info("not a delivery; ignored", extra={"fields": {"bucket": bucket, "key": key}})
            return True
        return self._run(trigger, lambda: [self._source.describe(bucket, key)]).succeeded

    def _run(self, trigger: RunTrigger, find: Callable[[], list[SourceObject]]) -> RunSummary:
        started = time.monotonic()
        with tracer.start_as_current_span(
            "ingestion.run", attributes={"ingestion.trigger": trigger.value}
        ) as span:
            with self._ledger.running(trigger) as run:
                span.set_attribute("ingestion.run", run.name)
                outcomes, error = self._ingest_all(find, run.id)
                records = sum((o.records for o in outcomes if o.outcome is Outcome.IMPORTED), RecordCounts())
                files = FileCounts(*(sum(o.outcome is kind for o in outcomes) for kind in Outcome))
                ended = self._ledger.end_run(run.id, files=files, records=records, error=error)
            summary = RunSummary(run=ended, files=outcomes)
            if not summary.succeeded:
                span.set_status(Status(StatusCode.ERROR, error or f"{files.failed} file(s) failed"))
        metrics.observe_run(time.monotonic() - started, succeeded=summary.succeeded, ended=ended.end_time)
        log.info(
            "run ended",
            extra={"fields": {"run": ended.name, "state": ended.state.value, "error": error, **vars(files)}},
        )
        if not summary.succeeded and self._alert_webhook_url:
            notify_run_failed(self._alert_webhook_url, ended)
        return summary

    def _ingest_all(
        self, find: Callable[[], list[SourceObject]], run_id: int
    ) -> tuple[tuple[FileOutcome, ...], str]:
        """Every file `find` lists, in order, and the error that kept S3 from being listed, if one did."""
        try:
            with tracer.start_as_current_span("s3.list"):
                objects = find()
        except NotFound as exc:
            log.info("nothing to ingest: %s", exc.message)
            return (), ""
        except Unavailable as exc:
            return (), exc.message
        return tuple(self._ingest(obj, run_id) for obj in objects), ""

    def _ingest(self, obj: SourceObject, run_id: int) -> FileOutcome:
        with tracer.start_as_current_span("ingestion.file", attributes={"s3.key": obj.key}) as span:
            outcome = self._ingest_file(obj, run_id)
            span.set_attribute("ingestion.outcome", outcome.outcome.value)
            if outcome.outcome is Outcome.FAILED:
                span.set_status(Status(StatusCode.ERROR, outcome.reason))
        metrics.count_file(outcome.outcome)
        if outcome.outcome is Outcome.IMPORTED:
            metrics.count_records(outcome.records)
        fields = {
            "key": obj.key,
            "etag": obj.etag,
            "outcome": outcome.outcome.value,
            "reason": outcome.reason,
        }
        log.log(
            logging.WARNING if outcome.outcome is Outcome.FAILED else logging.INFO,
            "file",
            extra={"fields": fields},
        )
        return outcome

    def _ingest_file(self, obj: SourceObject, run_id: int) -> FileOutcome:
        if self._ledger.is_imported(obj):
            return FileOutcome(obj, Outcome.SKIPPED, "already imported")
        try:
            with self._ledger.claim(obj, run_id=run_id) as claim:
                try:
                    published = self._importer.import_file(obj, file_id=claim.file_id, sink=claim)
                except FileFailed as exc:
                    claim.mark_failed(error=exc.reason)
                    return FileOutcome(obj, Outcome.FAILED, exc.reason, file_id=claim.file_id)
                except Exception as exc:
                    log.exception("file import failed unexpectedly", extra={"fields": {"key": obj.key}})
                    reason = f"internal error ({type(exc).__name__}); see the ingestion logs"
                    claim.mark_failed(error=reason)
                    return FileOutcome(obj, Outcome.FAILED, reason, file_id=claim.file_id)
                claim.mark_imported(catalog_import=published.catalog_import, records=published.records)
                return FileOutcome(
                    obj,
                    Outcome.IMPORTED,
                    records=published.records,
                    catalog_import=published.catalog_import,
                    file_id=claim.file_id,
                )
        except FileSkipped as skip:
            return FileOutcome(obj, Outcome.SKIPPED, skip.reason)
