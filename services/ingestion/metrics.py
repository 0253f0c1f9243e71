"""Ingestion's own Prometheus figures (gamekit.observability.metrics serves them with the gRPC ones).

The last-success, last-rejection and quarantine-share gauges answer at scrape time. The daily run is a
CronJob, another process with no metrics port, so the `serve` process that Prometheus scrapes follows the
ledger: it asks for the last successful run, the last rejected file and each file's newest record counts
at most every `LEDGER_READ_SECONDS`, and keeps the last good answer when the database fails. A success or
rejection of the process itself counts at once, without waiting for the next read. The counters count
only what this process did.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Generic, TypeVar

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ingestion.model import Outcome, RecordCounts

log = logging.getLogger(__name__)
T = TypeVar("T")

LEDGER_READ_SECONDS = 15.0

FILES = Counter("ingestion_files_total", "Delivered files a run handled, by outcome.", ["outcome"])
RECORDS = Counter(
    "ingestion_records_total", "Records of imported files, by what became of them.", ["outcome"]
)
FILES_REJECTED = Counter(
    "ingestion_files_rejected_total",
    "File versions rejected (never taken again until accepted), by cause: quarantined (too large a "
    "share of bad records), unreadable (not JSON, truncated, bad gzip, over a size bound), refused (by "
    "the catalog), gave_up (failed too many runs for a transient reason).",
    ["cause"],
)
REJECT_CAUSES = ("quarantined", "unreadable", "refused", "gave_up")
LAST_REJECTION = Gauge(
    "ingestion_last_file_rejected_timestamp_seconds",
    "Unix time a file was last rejected, by any process (read from the ledger); 0 if none is rejected.",
)
RUN_SECONDS = Histogram(
    "ingestion_run_duration_seconds",
    "Wall time of one ingestion run.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
LAST_SUCCESS = Gauge(
    "ingestion_last_success_timestamp_seconds",
    "Unix time the last successful run ended, by any process (read from the ledger); 0 if none yet.",
)

for _outcome in Outcome:
    FILES.labels(_outcome.value)
for _name in ("imported", "repaired", "quarantined", "duplicate"):
    RECORDS.labels(_name)
for _cause in REJECT_CAUSES:
    FILES_REJECTED.labels(_cause)

LedgerRead = Callable[[], datetime | None]
FileRecordsRead = Callable[[], Mapping[str, RecordCounts]]


class LedgerAnswer(Generic[T]):
    """The last answer of a ledger query, asked again at most every interval; kept when the query fails."""

    def __init__(self, empty: T, *, what: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._what = what
        self._clock = clock
        self._lock = threading.Lock()
        self._answer = empty
        self._read: Callable[[], T] | None = None
        self._interval = LEDGER_READ_SECONDS
        self._next_read = 0.0

    def follow(self, read: Callable[[], T], *, interval: float | None = None) -> Callable[[], None]:
        """Ask `read` at the next `get` and then every `interval` s; returns a call that stops it."""
        with self._lock:
            self._read = read
            self._interval = LEDGER_READ_SECONDS if interval is None else interval
            self._next_read = -math.inf

        def stop() -> None:
            with self._lock:
                if self._read is read:
                    self._read = None

        return stop

    def get(self) -> T:
        """The last good answer, asking the ledger first when it is stale; never raises."""
        with self._lock:
            now = self._clock()
            if self._read is not None and now >= self._next_read:
                # Also after a failure: a database that is down is asked again later, not at every scrape.
                self._next_read = now + self._interval
                try:
                    self._answer = self._read()
                except Exception:
                    log.warning("cannot read %s from the ledger", self._what, exc_info=True)
            return self._answer


class LedgerTime:
    """The newest time of an event this process knows of (a run's success, say): its own, or the ledger's."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, *, what: str = "the last successful run"
    ) -> None:
        self._lock = threading.Lock()
        self._own = 0.0
        self._ledger: LedgerAnswer[datetime | None] = LedgerAnswer(None, what=what, clock=clock)

    def mark(self, ended: datetime) -> None:
        """The event happened in this process, at `ended`."""
        with self._lock:
            self._own = max(self._own, ended.timestamp())

    def follow(self, read: LedgerRead, *, interval: float | None = None) -> Callable[[], None]:
        """Ask `read` at the next scrape and then every `interval` s; returns a call that stops it."""
        return self._ledger.follow(read, interval=interval)

    def value(self) -> float:
        """Unix time of the last event (0 if none), reading the ledger when the last read is stale."""
        ended = self._ledger.get()
        with self._lock:
            return max(self._own, 0.0 if ended is None else ended.timestamp())


def quarantine_ratio(records: RecordCounts) -> float | None:
    """Quarantined records / records read, as the rejection limit counts them; None when none was read.

    Duplicates are among the imported records (the catalog collapses them), so they are not added.
    """
    read = records.imported + records.quarantined
    return records.quarantined / read if read else None


class QuarantineRatios(Collector):
    """`ingestion_file_quarantine_ratio{file}`: one series per file name the ledger finished lately.

    A name appears once a version of it was imported or rejected, and disappears when the ledger stops
    listing it (see `Ledger.newest_file_records`); a version that read no record has no share to show.
    """

    NAME = "ingestion_file_quarantine_ratio"
    HELP = (
        "Quarantined share (0 to 1) of the records read from the newest imported or rejected version of "
        "each delivered file name (the key's last segment) processed in the last 7 days, read from the "
        "ledger."
    )

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._records: LedgerAnswer[Mapping[str, RecordCounts]] = LedgerAnswer(
            {}, what="the files' record counts", clock=clock
        )

    def follow(self, read: FileRecordsRead, *, interval: float | None = None) -> Callable[[], None]:
        """Ask `read` at the next scrape and then every `interval` s; returns a call that stops it."""
        return self._records.follow(read, interval=interval)

    def ratios(self) -> dict[str, float]:
        """File name -> quarantined share, reading the ledger when the last read is stale."""
        shares = {name: quarantine_ratio(records) for name, records in self._records.get().items()}
        return {name: share for name, share in sorted(shares.items()) if share is not None}

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(self.NAME, self.HELP, labels=["file"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self.NAME, self.HELP, labels=["file"])
        for name, share in self.ratios().items():
            family.add_metric([name], share)
        yield family


LAST_SUCCESS_TIME = LedgerTime()
LAST_SUCCESS.set_function(LAST_SUCCESS_TIME.value)
LAST_REJECTION_TIME = LedgerTime(what="the last rejected file")
LAST_REJECTION.set_function(LAST_REJECTION_TIME.value)
QUARANTINE_RATIOS = QuarantineRatios()
REGISTRY.register(QUARANTINE_RATIOS)


def follow_ledger(
    last_success: LedgerRead, last_rejection: LedgerRead, file_records: FileRecordsRead
) -> Callable[[], None]:
    """Report the ledger's last success, last rejection and files' quarantined shares on the gauges.

    Returns a call that stops it.
    """
    stops = (
        LAST_SUCCESS_TIME.follow(last_success),
        LAST_REJECTION_TIME.follow(last_rejection),
        QUARANTINE_RATIOS.follow(file_records),
    )

    def stop() -> None:
        for each in stops:
            each()

    return stop


def count_file(outcome: Outcome) -> None:
    """One file handled."""
    FILES.labels(outcome.value).inc()


def count_rejected(cause: str) -> None:
    """One file version rejected (once per version: a rejected file is never taken again)."""
    FILES_REJECTED.labels(cause).inc()
    LAST_REJECTION_TIME.mark(datetime.now(UTC))


def count_records(records: RecordCounts) -> None:
    """The records of one imported file."""
    RECORDS.labels("imported").inc(records.imported)
    RECORDS.labels("repaired").inc(records.repaired)
    RECORDS.labels("quarantined").inc(records.quarantined)
    RECORDS.labels("duplicate").inc(records.duplicate)


def observe_run(seconds: float, *, succeeded: bool, ended: datetime | None) -> None:
    """One run ended."""
    RUN_SECONDS.observe(seconds)
    if succeeded and ended is not None:
        LAST_SUCCESS_TIME.mark(ended)
