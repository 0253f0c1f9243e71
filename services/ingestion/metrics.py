"""Ingestion's own Prometheus figures (gamekit.metrics serves them with the gRPC ones)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram

from ingestion.model import Outcome, RecordCounts

FILES = Counter("ingestion_files_total", "Delivered files a run handled, by outcome.", ["outcome"])
RECORDS = Counter(
    "ingestion_records_total", "Records of imported files, by what became of them.", ["outcome"]
)
RUN_SECONDS = Histogram(
    "ingestion_run_duration_seconds",
    "Wall time of one ingestion run.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200),
)
LAST_SUCCESS = Gauge(
    "ingestion_last_success_timestamp_seconds", "Unix time the last successful run ended; 0 if none yet."
)

for _outcome in Outcome:
    FILES.labels(_outcome.value)
for _name in ("imported", "repaired", "quarantined", "duplicate"):
    RECORDS.labels(_name)


def count_file(outcome: Outcome) -> None:
    """One file handled."""
    FILES.labels(outcome.value).inc()


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
        mark_success(ended)


def mark_success(ended: datetime | None) -> None:
    """The time of the last successful run (from the ledger at start, so a restart keeps it)."""
    if ended is not None:
        LAST_SUCCESS.set(ended.timestamp())
