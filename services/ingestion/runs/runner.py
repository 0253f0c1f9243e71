"""A run: every delivery under the prefix (or the one object an event names) into the catalog.

One span per run, with the listing and one span per file below it (the S3 GET, the parse and the
catalog import under that). A run ends `succeeded` when every file was imported or skipped; a file it
rejects or fails makes it `failed`, and that run alone sends the webhook: a rejected file is skipped
by every later run, until an operator accepts it (`accept`, a run of its own).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from gamekit.errors import Aborted, FailedPrecondition, NotFound, Unavailable
from ingestion import metrics
from ingestion.importing.importer import CatalogImporter
from ingestion.ledger.claims import FileClaim, FileGaveUp, FileSkipped
from ingestion.ledger.store import Ledger
from ingestion.model import (
    EventOutcome,
    FileCounts,
    FileEntry,
    FileFailed,
    FileOutcome,
    FileState,
    FileUnusable,
    Outcome,
    RecordCounts,
    RetryPolicy,
    Run,
    RunSummary,
    RunTrigger,
    SourceObject,
    clip,
)
from ingestion.runs.alerts import notify_run_failed
from ingestion.sources.s3 import S3Source, is_delivery

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
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self._ledger = ledger
        self._source = source
        self._importer = importer
        self._alert_webhook_url = alert_webhook_url
        self._retry = retry_policy or RetryPolicy()

    def run(
        self, trigger: RunTrigger = RunTrigger.SCHEDULE, *, on_start: Callable[[Run], None] | None = None
    ) -> RunSummary:
        """One run over every delivery under the prefix; `on_start` gets the run once the ledger holds it."""
        return self._run(trigger, self._source.list_objects, on_start=on_start)

    def run_object(self, bucket: str, key: str, trigger: RunTrigger = RunTrigger.EVENT) -> EventOutcome:
        """Ingest the object an event names, if it is one of ours; what became of the event."""
        fields = {"bucket": bucket, "key": key}
        if bucket != self._source.bucket or not key.startswith(self._source.prefix):
            log.warning(
                "an event for an object outside the configured bucket and prefix; not imported",
                extra={"fields": {**fields, "prefix": self._source.prefix}},
            )
            return EventOutcome.FOREIGN
        if not is_delivery(key):
            log.info("not a delivery; ignored", extra={"fields": fields})
            return EventOutcome.DONE
        summary = self._run(trigger, lambda: [self._source.describe(bucket, key)])
        if summary.run.error or any(o.outcome is Outcome.FAILED for o in summary.files):
            return EventOutcome.RETRY
        return EventOutcome.DONE

    def accept(self, file_id: int, *, accepted_by: str) -> tuple[RunSummary, FileEntry]:
        """Publish a rejected file whatever share of it is quarantined, in a run of its own."""
        entry = self._ledger.get_file(file_id)
        if entry.state is not FileState.REJECTED:
            raise FailedPrecondition(
                f"{entry.name} is {entry.state.value}; only a rejected file can be accepted",
                reason="FILE_NOT_REJECTED",
            )
        log.info("file accepted", extra={"fields": {"file": entry.name, "accepted_by": accepted_by}})
        summary = self._run(RunTrigger.ADMIN, lambda: [entry.source], accepted_by=accepted_by)
        skipped = [o.reason for o in summary.files if o.outcome is Outcome.SKIPPED]
        if skipped:
            raise Aborted(f"{entry.name} was not imported: {skipped[0]}; retry later", reason="FILE_BUSY")
        return summary, self._ledger.get_file(file_id)

    def _run(
        self,
        trigger: RunTrigger,
        find: Callable[[], list[SourceObject]],
        accepted_by: str = "",
        on_start: Callable[[Run], None] | None = None,
    ) -> RunSummary:
        started = time.monotonic()
        with tracer.start_as_current_span(
            "ingestion.run", attributes={"ingestion.trigger": trigger.value}
        ) as span:
            with self._ledger.running(trigger) as run:
                span.set_attribute("ingestion.run", run.name)
                if on_start is not None:
                    on_start(run)
                outcomes, error = self._ingest_all(find, run.id, accepted_by)
                records = sum((o.records for o in outcomes if o.outcome is Outcome.IMPORTED), RecordCounts())
                files = FileCounts(*(sum(o.outcome is kind for o in outcomes) for kind in Outcome))
                ended = self._ledger.end_run(run.id, files=files, records=records, error=error)
            summary = RunSummary(run=ended, files=outcomes)
            if not summary.succeeded:
                failed = f"{files.failed} file(s) failed, {files.rejected} rejected"
                span.set_status(Status(StatusCode.ERROR, error or failed))
        metrics.observe_run(time.monotonic() - started, succeeded=summary.succeeded, ended=ended.end_time)
        log.info(
            "run ended",
            extra={"fields": {"run": ended.name, "state": ended.state.value, "error": error, **vars(files)}},
        )
        if not summary.succeeded and self._alert_webhook_url:
            notify_run_failed(self._alert_webhook_url, ended)
        return summary

    def _ingest_all(
        self, find: Callable[[], list[SourceObject]], run_id: int, accepted_by: str
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
        return tuple(self._ingest(obj, run_id, accepted_by) for obj in objects), ""

    def _ingest(self, obj: SourceObject, run_id: int, accepted_by: str) -> FileOutcome:
        with tracer.start_as_current_span("ingestion.file", attributes={"s3.key": obj.key}) as span:
            outcome = self._ingest_file(obj, run_id, accepted_by)
            outcome = replace(outcome, reason=clip(outcome.reason))
            span.set_attribute("ingestion.outcome", outcome.outcome.value)
            if outcome.outcome in (Outcome.FAILED, Outcome.REJECTED):
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
        if outcome.outcome is Outcome.REJECTED:
            log.error("file rejected: nothing of it is published", extra={"fields": fields})
        else:
            level = logging.WARNING if outcome.outcome is Outcome.FAILED else logging.INFO
            log.log(level, "file", extra={"fields": fields})
        return outcome

    def _ingest_file(self, obj: SourceObject, run_id: int, accepted_by: str) -> FileOutcome:
        if not accepted_by and (settled := self._ledger.settled(obj)):
            return FileOutcome(obj, Outcome.SKIPPED, settled)
        try:
            with self._ledger.claim(
                obj, run_id=run_id, accepting=bool(accepted_by), policy=self._retry
            ) as claim:
                return self._import(obj, claim, accepted_by)
        except FileGaveUp as gave_up:
            metrics.count_rejected("gave_up")
            return FileOutcome(obj, Outcome.REJECTED, gave_up.reason)
        except FileSkipped as skip:
            return FileOutcome(obj, Outcome.SKIPPED, skip.reason)

    def _import(self, obj: SourceObject, claim: FileClaim, accepted_by: str) -> FileOutcome:
        """Import the claimed file, and record in the ledger how it ended."""
        try:
            published = self._importer.import_file(
                obj, file_id=claim.file_id, sink=claim, accepted=bool(accepted_by)
            )
        except FileUnusable as exc:
            reason = f"accepted by {accepted_by}, but {exc.reason}" if accepted_by else exc.reason
            claim.mark_rejected(reason=reason, records=exc.records, drift=exc.drift)
            metrics.count_rejected(exc.cause)
            return FileOutcome(obj, Outcome.REJECTED, reason, exc.records, file_id=claim.file_id)
        except FileFailed as exc:
            reason = exc.reason
        except Exception as exc:
            log.exception("file import failed unexpectedly", extra={"fields": {"key": obj.key}})
            reason = f"internal error ({type(exc).__name__}); see the ingestion logs"
        else:
            claim.mark_imported(
                catalog_import=published.catalog_import,
                records=published.records,
                drift=published.drift,
                accepted_by=accepted_by,
            )
            return FileOutcome(
                obj,
                Outcome.IMPORTED,
                records=published.records,
                catalog_import=published.catalog_import,
                file_id=claim.file_id,
            )
        if accepted_by:
            # Back to rejected as it was (reason, counts, drift, quarantine), the failure in `error`.
            before = self._ledger.get_file(claim.file_id)
            error = f"accepted by {accepted_by}, but the import failed: {reason}"
            claim.mark_rejected(
                reason=before.reject_reason, records=before.records, drift=before.drift, error=error
            )
            return FileOutcome(obj, Outcome.REJECTED, error, file_id=claim.file_id)
        entry = claim.mark_failed(error=reason, policy=self._retry)
        if entry.state is FileState.REJECTED:
            metrics.count_rejected("gave_up")
            return FileOutcome(obj, Outcome.REJECTED, entry.reject_reason, file_id=claim.file_id)
        return FileOutcome(obj, Outcome.FAILED, reason, file_id=claim.file_id)
