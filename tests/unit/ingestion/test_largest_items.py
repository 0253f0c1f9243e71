"""The largest run, file and quarantined record the ledger can hold fit one page many times over.

A page always holds at least one item (gamekit.paging.pages). What the ledger stores is bounded at the source:
S3's key (1024 bytes) and version id limits, reasons and errors clipped to MAX_REASON characters, a
record's raw JSON capped at 64 KiB of ASCII (non-ASCII is escaped), a drift entry per field and shape.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from gamekit.paging.pages import PageBudget
from ingestion.model import (
    MAX_REASON,
    DriftCount,
    FileEntry,
    FileState,
    QuarantinedRecord,
    RecordCounts,
    Run,
    RunState,
    RunTrigger,
    SourceObject,
    clip,
)
from ingestion.parsing import values
from ingestion.parsing.records import MAX_RAW, Quarantined, parse_delivery
from ingestion.transport import converters
from tests.factories.deliveries import app, delivery

WIDE = "😀"  # four bytes of UTF-8
BIGGEST = 2**63 - 1
NOW = datetime(2026, 12, 1, tzinfo=UTC)
BUDGET = PageBudget(converters.wire_size).bytes
S3_KEY = WIDE * 256  # S3 keys are at most 1024 bytes of UTF-8
COUNTS = RecordCounts(*(BIGGEST,) * len(RecordCounts.__dataclass_fields__))


def largest_raw_record() -> str:
    """The raw JSON the parser keeps of a huge bad record, full of characters JSON must escape."""
    huge = app(1, app_id=None, description=WIDE * 200_000)
    (item,) = parse_delivery(io.BytesIO(delivery([[huge]])))
    assert isinstance(item, Quarantined)
    return item.raw


def test_the_largest_quarantined_record_is_far_below_a_page() -> None:
    raw = largest_raw_record()
    assert len(raw.encode()) == MAX_RAW, "the raw JSON is capped, and ASCII"
    record = QuarantinedRecord(BIGGEST, S3_KEY, BIGGEST, raw, clip(WIDE * 10 * MAX_REASON), NOW)
    size = converters.wire_size(record)
    assert size > MAX_RAW
    assert size * 10 < BUDGET


def test_the_largest_file_is_far_below_a_page() -> None:
    every_drift = tuple(
        DriftCount(f"{n:02d}" + "f" * 48, shape, action, BIGGEST)
        for n in range(50)  # the reader knows about 15 descriptive fields
        for shape in values.SHAPES
        for action in ("converted", "dropped")
    )
    entry = FileEntry(
        id=BIGGEST,
        source=SourceObject("b" * 63, S3_KEY, "e" * 256, WIDE * 256, size=BIGGEST),
        state=FileState.REJECTED,
        catalog_import=f"imports/{BIGGEST}",
        error=clip(WIDE * 10 * MAX_REASON),
        records=COUNTS,
        attempts=BIGGEST,
        run_id=BIGGEST,
        update_time=NOW,
        reject_reason=clip(WIDE * 10 * MAX_REASON),
        failures=2**31 - 1,
        drift=every_drift,
        first_failure_time=NOW,
        accepted_by=WIDE * 200 + " via spiffe://games.local/gateway",
        accept_time=NOW,
    )
    assert converters.wire_size(entry) * 10 < BUDGET


def test_the_largest_run_is_far_below_a_page() -> None:
    # A run's failures are unbounded (one per failed file): the contract must not carry them whole.
    failures = ((S3_KEY, clip(WIDE * 10 * MAX_REASON)),) * 100
    run = Run(BIGGEST, RunTrigger.ADMIN, RunState.FAILED, NOW, NOW, *(BIGGEST,) * 8, error=WIDE * MAX_REASON)
    run_with_failures = Run(**{**vars(run), "failures": failures})
    assert converters.wire_size(run_with_failures) * 1000 < BUDGET, "a page of 1000 runs always fits"
