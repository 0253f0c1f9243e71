"""One file into one catalog import: S3 body → parse → ImportGames stream, retried as a whole.

The request stream is a generator, so gRPC pulls a batch only when the previous one is sent (back-
pressure) and the file is never held in memory. Only a stream that reaches its ImportCommit publishes;
one that fails midway is cancelled, and the catalog keeps nothing of it. Each attempt re-opens the
object and re-parses it; the ledger forgets the quarantine and repairs of the attempt before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Protocol

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
from gamekit.protos import timestamp
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from ingestion.app_reader import GameRecord
from ingestion.model import FileFailed, RecordCounts, RepairEntry, SourceObject
from ingestion.records import Accepted, FileRejected, Quarantined, parse_delivery
from ingestion.source import CorruptObject, ObjectChanged, S3Source

log = logging.getLogger(__name__)
tracer = trace.get_tracer("ingestion")

_PLATFORMS = {"ios": pb.PLATFORM_IOS, "android": pb.PLATFORM_ANDROID}
_RETRIED_CODES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
_LEDGER_FLUSH = 500


class RecordSink(Protocol):
    """Where an attempt's quarantined records and repairs go (the file's ledger claim)."""

    def begin_attempt(self) -> None: ...
    def add_quarantined(self, rows: Sequence[tuple[int, str, str]]) -> None: ...
    def add_repairs(self, repairs: Sequence[RepairEntry]) -> None: ...


@dataclass(frozen=True)
class Published:
    """A file published in the catalog: the import's name and what became of the records."""

    catalog_import: str
    records: RecordCounts


def game_from_record(record: GameRecord) -> pb.Game:
    """A parsed record as the catalog's Game."""
    game = pb.Game(
        display_name=record.display_name,
        platform=_PLATFORMS[record.platform],
        store_id=record.store_id,
        bundle_id=record.bundle_id,
        publisher_id=record.publisher_id,
        publisher_name=record.publisher_name,
        app_version=record.app_version,
        is_published=True,
        categories=list(record.categories),
        icon_uri=record.icon_uri,
        store_uri=record.store_uri,
        rating=record.rating,
        rating_count=record.rating_count,
        price=record.price,
        in_app_purchases=record.in_app_purchases,
        best_rank=record.best_rank,
    )
    if record.release_time is not None:
        game.release_time.CopyFrom(timestamp(record.release_time))
    if record.store_update_time is not None:
        game.store_update_time.CopyFrom(timestamp(record.store_update_time))
    return game


class _Feed:
    """Parsed items → ImportGames requests, counting and flushing ledger rows on the way."""

    # gRPC iterates `requests()` on a thread of its own; each step runs under a lock, and `close()`
    # takes it too, so once the call is over no late step writes to the ledger of a newer attempt.

    def __init__(
        self,
        *,
        header: pb.ImportGamesRequest,
        items: Iterator[Accepted | Quarantined],
        sink: RecordSink,
        batch_size: int,
        file_id: int,
    ) -> None:
        self._header = header
        self._items = items
        self._sink = sink
        self._batch_size = batch_size
        self._file_id = file_id
        self._lock = threading.Lock()
        self._closed = False
        self._quarantine: list[tuple[int, str, str]] = []
        self._repairs: list[RepairEntry] = []
        self.imported = self.repaired = self.quarantined = 0
        self.error: Exception | None = None

    def requests(self) -> Iterator[pb.ImportGamesRequest]:
        """The header, then one message per batch; raises (cancelling the call) on any failure."""
        try:
            yield self._header
            while True:
                with self._lock:
                    games = self._next_batch()
                if not games:
                    break
                yield pb.ImportGamesRequest(batch=pb.ImportBatch(games=games))
            with self._lock:
                self._flush()
            # Only a stream that reaches this point may publish: see ImportCommit in the contract.
            yield pb.ImportGamesRequest(commit=pb.ImportCommit(game_count=self.imported))
        except Exception as exc:
            self.error = exc
            raise

    def close(self) -> None:
        """No step runs after this returns."""
        with self._lock:
            self._closed = True

    def _next_batch(self) -> list[pb.Game]:
        if self._closed:
            # Never end the stream normally after close: a normal end would publish.
            raise RuntimeError("the import stream was closed")
        games: list[pb.Game] = []
        for item in self._items:
            if isinstance(item, Quarantined):
                self.quarantined += 1
                self._quarantine.append((item.position, item.raw, item.reason))
            else:
                games.append(game_from_record(item.record))
                self.imported += 1
                if item.repairs:
                    self.repaired += 1
                    self._repairs += [
                        RepairEntry(self._file_id, item.position, x.field, x.original, x.repaired, x.encoding)
                        for x in item.repairs
                    ]
            if len(self._quarantine) >= _LEDGER_FLUSH or len(self._repairs) >= _LEDGER_FLUSH:
                self._flush()
            if len(games) >= self._batch_size:
                break
        return games

    def _flush(self) -> None:
        self._sink.add_quarantined(self._quarantine)
        self._sink.add_repairs(self._repairs)
        self._quarantine, self._repairs = [], []


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
    ) -> None:
        self._stub = pb_grpc.CatalogServiceStub(channel)
        self._source = source
        self._batch_size = batch_size
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._wait = wait_exponential_jitter(
            multiplier=initial_backoff, max=max_backoff, jitter=initial_backoff
        )

    def import_file(self, obj: SourceObject, *, file_id: int, sink: RecordSink) -> Published:
        """Publish one file; FileFailed with a clean reason when it cannot be, after the last attempt."""
        retrying = Retrying(
            retry=retry_if_exception_type(Unavailable),
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            reraise=True,
            before_sleep=_log_retry(obj.key),
        )
        try:
            return retrying(self._attempt, obj, file_id, sink)
        except Unavailable as exc:
            raise FileFailed(f"{exc.message} (gave up after {self._max_attempts} attempts)") from exc

    def _attempt(self, obj: SourceObject, file_id: int, sink: RecordSink) -> Published:
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
            feed = _Feed(
                header=_header(obj),
                items=parse_delivery(stream),
                sink=sink,
                batch_size=self._batch_size,
                file_id=file_id,
            )
            stack.callback(feed.close)  # before the body closes: no step may read it afterwards
            try:
                with tracer.start_as_current_span("catalog.import", attributes={"s3.key": obj.key}):
                    response = self._stub.ImportGames(feed.requests(), timeout=self._timeout)
            except grpc.RpcError as exc:
                feed.close()
                raise _failure(feed.error, exc) from feed.error or exc
        record = response.import_record
        distinct = record.created_count + record.updated_count + record.unchanged_count
        counts = RecordCounts(
            imported=feed.imported,
            repaired=feed.repaired,
            quarantined=feed.quarantined,
            duplicate=max(0, record.received_count - distinct),
        )
        return Published(catalog_import=record.name, records=counts)


def _header(obj: SourceObject) -> pb.ImportGamesRequest:
    source = pb.ImportSource(bucket=obj.bucket, key=obj.key, etag=obj.etag, version_id=obj.version_id)
    return pb.ImportGamesRequest(header=pb.ImportHeader(source=source))


def _log_retry(key: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        fields = {"key": key, "attempt": state.attempt_number, "error": str(error)}
        log.warning("import attempt failed; retrying", extra={"fields": fields})

    return before_sleep


def _failure(error: Exception | None, rpc: grpc.RpcError) -> Exception:
    """What a failed ImportGames call means for the file: retry (Unavailable) or fail it (FileFailed)."""
    if isinstance(error, FileRejected | CorruptObject):
        return FileFailed(error.reason)
    if error is not None:  # Unavailable is retried; anything else fails the file as unexpected
        return error
    code = rpc.code() if isinstance(rpc, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (rpc.details() if isinstance(rpc, grpc.Call) else "") or ""
    if code in _RETRIED_CODES or code is grpc.StatusCode.CANCELLED:
        # CANCELLED without an error of ours means the catalog went away mid-stream.
        return Unavailable(f"the catalog is unavailable ({code.name}: {details})")
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return FileFailed(f"the catalog refused the file: {details}")
    return FileFailed(f"the catalog failed the import ({code.name}: {details})")
