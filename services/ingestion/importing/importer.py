"""One file into one catalog import: S3 body → parse → ImportGames stream, retried as a whole.

The request stream is a generator (`ingestion.importing.feed`), so gRPC pulls a batch only when the
previous one is sent (back-pressure) and the file is never held in memory. Only a stream that reaches its
ImportCommit publishes; one that fails midway is cancelled, and the catalog keeps nothing of it. Each
attempt re-opens the object and re-parses it; the ledger forgets the quarantine and repairs of the
attempt before.

Failures come out as two kinds: `FileUnusable` when retrying cannot help (broken bytes, a size bound,
too many quarantined records, the catalog refusing the file), and `FileFailed` when S3 or the catalog
stayed unavailable through every attempt of this run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace

import grpc
from opentelemetry import context, trace
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from gamekit.errors import Unavailable
from gamekit.status import status_code
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from ingestion.importing.feed import Feed, FeedLimits, RecordSink, TooManyQuarantined
from ingestion.model import DriftCount, FileFailed, FileUnusable, RecordCounts, SourceObject
from ingestion.parsing.records import FileRejected, IntegerTooLarge, parse_delivery
from ingestion.sources.s3 import CorruptObject, ObjectChanged, S3Source

log = logging.getLogger(__name__)
tracer = trace.get_tracer("ingestion")

# ABORTED: the catalog's own "a concurrent change conflicted; retry".
_RETRIED_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED)


@dataclass(frozen=True)
class Published:
    """A file published in the catalog: the import's name, what became of the records, their drift."""

    catalog_import: str
    records: RecordCounts
    drift: tuple[DriftCount, ...] = ()


class CatalogImporter:
    """Imports one file at a time into the catalog, retrying S3 and catalog outages."""

    def __init__(
        self,
        *,
        channel: grpc.Channel,
        source: S3Source,
        batch_size: int = 500,
        timeout: float | None = None,
        max_attempts: int = 4,
        initial_backoff: float = 1.0,
        max_backoff: float = 30.0,
        limits: FeedLimits | None = None,
    ) -> None:
        self._stub = pb_grpc.CatalogServiceStub(channel)
        self._source = source
        self._batch_size = batch_size
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._limits = limits or FeedLimits()
        self._wait = wait_exponential_jitter(
            multiplier=initial_backoff, max=max_backoff, jitter=initial_backoff
        )

    def import_file(
        self, obj: SourceObject, *, file_id: int, sink: RecordSink, accepted: bool = False
    ) -> Published:
        """Publish one file (`accepted`: whatever share is quarantined); FileUnusable or FileFailed if not."""
        retrying = Retrying(
            retry=retry_if_exception_type(Unavailable),
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            reraise=True,
            before_sleep=_log_retry(obj.key),
        )
        try:
            try:
                return retrying(self._attempt, obj, file_id, sink, accepted, False)
            except IntegerTooLarge as exc:
                # Rare (one 20-digit number anywhere), and the slow parser is right for every file.
                log.info(
                    "an integer beyond 64 bits: parsing the file again with exact numbers",
                    extra={"fields": {"key": obj.key, "where": exc.reason}},
                )
                return retrying(self._attempt, obj, file_id, sink, accepted, True)
        except Unavailable as exc:
            raise FileFailed(f"{exc.message} (gave up after {self._max_attempts} attempts)") from exc

    def _attempt(
        self, obj: SourceObject, file_id: int, sink: RecordSink, accepted: bool, exact_numbers: bool
    ) -> Published:
        sink.begin_attempt()
        parent = context.get_current()
        with ExitStack() as stack:
            with tracer.start_as_current_span("s3.get_object", attributes={"s3.key": obj.key}):
                try:
                    stream = stack.enter_context(self._source.open(obj))
                except ObjectChanged as exc:
                    raise FileFailed(f"{exc}; the next run takes the new version") from exc
            # Parsing runs on gRPC's request thread, so its span is parented explicitly.
            parse_span = tracer.start_span("parse", context=parent, attributes={"s3.key": obj.key})
            stack.callback(parse_span.end)
            feed = Feed(
                header=_header(obj),
                items=parse_delivery(stream, exact_numbers=exact_numbers),
                sink=sink,
                batch_size=self._batch_size,
                file_id=file_id,
                limits=replace(self._limits, enforce_ratio=not accepted),
            )
            stack.callback(feed.close)  # before the body closes: no step may read it afterwards
            try:
                with tracer.start_as_current_span("catalog.import", attributes={"s3.key": obj.key}):
                    response = self._stub.ImportGames(feed.requests(), timeout=self._timeout)
            except grpc.RpcError as exc:
                feed.close()
                raise _failure(feed, exc) from feed.error or exc
        record = response.import_record
        distinct = record.created_count + record.updated_count + record.unchanged_count
        counts = replace(feed.records, duplicate=max(0, record.received_count - distinct))
        return Published(catalog_import=record.name, records=counts, drift=feed.drift)


def _header(obj: SourceObject) -> pb.ImportGamesRequest:
    source = pb.ImportSource(bucket=obj.bucket, key=obj.key, etag=obj.etag, version_id=obj.version_id)
    return pb.ImportGamesRequest(header=pb.ImportHeader(source=source))


def _log_retry(key: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        fields = {"key": key, "attempt": state.attempt_number, "error": str(error)}
        log.warning("import attempt failed; retrying", extra={"fields": fields})

    return before_sleep


def _failure(feed: Feed, rpc: grpc.RpcError) -> Exception:
    """What a failed ImportGames call means: retry (Unavailable), reject (FileUnusable) or fail it."""
    error = feed.error
    if isinstance(error, IntegerTooLarge):
        return error  # parsed again, exactly, by import_file
    if isinstance(error, TooManyQuarantined):
        return FileUnusable(error.reason, feed.records, feed.drift, cause="quarantined")
    if isinstance(error, FileRejected | CorruptObject):
        return FileUnusable(error.reason, feed.records, feed.drift, cause="unreadable")
    if error is not None:  # Unavailable is retried; anything else fails the file as unexpected
        return error
    code = status_code(rpc)
    details = (rpc.details() if isinstance(rpc, grpc.Call) else "") or ""
    if code in _RETRIED_CODES or code is grpc.StatusCode.CANCELLED:
        # CANCELLED without an error of ours means the catalog went away mid-stream.
        return Unavailable(f"the catalog is unavailable ({code.name}: {details})")
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        refused = f"the catalog refused the file: {details}"
        return FileUnusable(refused, feed.records, feed.drift, cause="refused")
    return FileFailed(f"the catalog failed the import ({code.name}: {details})")
