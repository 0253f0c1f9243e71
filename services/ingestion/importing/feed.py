"""Parsed items of one file → ImportGames requests, with the ledger rows and the file's verdict on the way.

The feed counts what became of every record, keeps the first quarantined records and repairs (up to
the file's bounds; the rest are counted, not stored, so a hostile file cannot fill the ledger) and sums
the drift of descriptive fields. Before the last message, the one that publishes, it judges the file:
a quarantined share above the limit stops the stream (`TooManyQuarantined`), and the catalog keeps
nothing of it. An operator's accept lifts that limit for one file.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from games.catalog.v1 import catalog_pb2 as pb
from ingestion.importing.catalog_game import game_from_record
from ingestion.model import DriftCount, RecordCounts, RepairEntry
from ingestion.parsing.records import Accepted, Quarantined

# Ledger rows are written in batches of this many rows, or of this many bytes of raw records (a
# quarantined record keeps up to 64 KiB of its JSON: 500 of them would hold 32 MiB, several times over
# once SQLAlchemy has bound them).
_LEDGER_FLUSH_ROWS = 500
_LEDGER_FLUSH_BYTES = 2 * 2**20
# A batch ends at this many bytes of games too: the catalog takes messages of up to 4 MiB, and 500
# games with every text field at its cap come to ~8 MiB.
_BATCH_BYTES = 2**20


class RecordSink(Protocol):
    """Where an attempt's quarantined records and repairs go (the file's ledger claim)."""

    def begin_attempt(self) -> None: ...
    def add_quarantined(self, rows: Sequence[tuple[int, str, str]]) -> None: ...
    def add_repairs(self, repairs: Sequence[RepairEntry]) -> None: ...


@dataclass(frozen=True)
class FeedLimits:
    """What one file may quarantine before it is rejected, and how much of it the ledger keeps."""

    max_quarantine_ratio: float = 0.05
    max_quarantine_rows: int = 1000
    max_repair_rows: int = 100_000
    enforce_ratio: bool = True  # False when an operator accepted the file


class TooManyQuarantined(Exception):
    """The file's quarantined share is above the limit; `reason` says how far, and the first reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Feed:
    """Turns one attempt's parsed items into requests; gRPC pulls them on a thread of its own."""

    # Each step runs under a lock, and `close()` takes it too, so once the call is over no late step
    # writes to the ledger of a newer attempt.

    def __init__(
        self,
        *,
        header: pb.ImportGamesRequest,
        items: Iterator[Accepted | Quarantined],
        sink: RecordSink,
        batch_size: int,
        file_id: int,
        limits: FeedLimits,
    ) -> None:
        self._header = header
        self._items = items
        self._sink = sink
        self._batch_size = batch_size
        self._file_id = file_id
        self._limits = limits
        self._lock = threading.Lock()
        self._closed = False
        self._quarantine: list[tuple[int, str, str]] = []
        self._repairs: list[RepairEntry] = []
        self._rows_kept = self._repairs_kept = self._buffered_bytes = 0
        self._drift: Counter[tuple[str, str, str]] = Counter()
        self.imported = self.repaired = self.quarantined = 0
        self.first_reason = ""
        self.error: Exception | None = None

    @property
    def records(self) -> RecordCounts:
        """What became of the records read so far (duplicates are the catalog's to count)."""
        return RecordCounts(imported=self.imported, repaired=self.repaired, quarantined=self.quarantined)

    @property
    def drift(self) -> tuple[DriftCount, ...]:
        """Descriptive fields that arrived in another shape, most frequent first."""
        return tuple(DriftCount(f, s, a, n) for (f, s, a), n in self._drift.most_common())

    def requests(self) -> Iterator[pb.ImportGamesRequest]:
        """The header, then one message per batch, then the commit; on any failure, no commit."""
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
                self._judge()
            # Only a stream that reaches this point may publish: see ImportCommit in the contract.
            yield pb.ImportGamesRequest(commit=pb.ImportCommit(game_count=self.imported))
        except Exception as exc:
            # The stream ends without its commit: the catalog publishes nothing and refuses it, and the
            # caller reads why from `error`. (Raising would do the same, with gRPC logging a traceback.)
            self.error = exc

    def close(self) -> None:
        """No step runs after this returns."""
        with self._lock:
            self._closed = True

    def _judge(self) -> None:
        total = self.imported + self.quarantined
        limit = self._limits.max_quarantine_ratio
        if self._limits.enforce_ratio and total and self.quarantined > limit * total:
            raise TooManyQuarantined(
                f"{self.quarantined} of {total} records quarantined ({self.quarantined / total:.1%}, "
                f"more than the {limit:.1%} allowed); first reason: {self.first_reason}"
            )

    def _next_batch(self) -> list[pb.Game]:
        if self._closed:
            raise RuntimeError("the import stream was closed")
        games: list[pb.Game] = []
        size = 0
        for item in self._items:
            if isinstance(item, Quarantined):
                self._add_quarantined(item)
            else:
                game = game_from_record(item.record)
                games.append(game)
                size += game.ByteSize()
                self._add_accepted(item)
            rows = max(len(self._quarantine), len(self._repairs))
            if rows >= _LEDGER_FLUSH_ROWS or self._buffered_bytes >= _LEDGER_FLUSH_BYTES:
                self._flush()
            if len(games) >= self._batch_size or size >= _BATCH_BYTES:
                break
        return games

    def _add_quarantined(self, item: Quarantined) -> None:
        self.quarantined += 1
        if not self.first_reason:
            self.first_reason = item.reason
        if self._rows_kept < self._limits.max_quarantine_rows:
            self._rows_kept += 1
            self._buffered_bytes += len(item.raw)
            self._quarantine.append((item.position, item.raw, item.reason))

    def _add_accepted(self, item: Accepted) -> None:
        self.imported += 1
        for drift in item.drift:  # the reader notes each (field, shape, action) once per record
            self._drift[drift.field, drift.shape, drift.action] += 1
        if not item.repairs:
            return
        self.repaired += 1
        room = self._limits.max_repair_rows - self._repairs_kept
        kept = item.repairs[: max(room, 0)]
        self._repairs_kept += len(kept)
        position = item.position
        self._repairs += [
            RepairEntry(self._file_id, position, x.field, x.original, x.repaired, x.encoding) for x in kept
        ]

    def _flush(self) -> None:
        self._sink.add_quarantined(self._quarantine)
        self._sink.add_repairs(self._repairs)
        self._quarantine, self._repairs, self._buffered_bytes = [], [], 0
