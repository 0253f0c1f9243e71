"""The ledger-read figures: the process's own runs and the ledger's answer, read at most every interval."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from ingestion.metrics import LedgerTime, QuarantineRatios, quarantine_ratio
from ingestion.model import RecordCounts

EARLY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
LATE = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Ledger:
    """Stands in for `Ledger.last_success_time`, counting the reads."""

    def __init__(self, answer: datetime | None) -> None:
        self.answer: datetime | Exception | None = answer
        self.reads = 0

    def __call__(self) -> datetime | None:
        self.reads += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_nothing_known_is_zero() -> None:
    assert LedgerTime().value() == 0.0


def test_own_runs_count_without_a_ledger() -> None:
    last = LedgerTime()
    last.mark(LATE)
    last.mark(EARLY)
    assert last.value() == LATE.timestamp()


def test_the_ledger_is_read_at_most_every_interval() -> None:
    clock, ledger = Clock(), Ledger(EARLY)
    last = LedgerTime(clock)
    last.follow(ledger, interval=15)
    assert last.value() == EARLY.timestamp()
    ledger.answer = LATE  # another process (the CronJob) succeeded
    assert last.value() == EARLY.timestamp()
    assert ledger.reads == 1
    clock.now += 15
    assert last.value() == LATE.timestamp()
    assert ledger.reads == 2


def test_a_database_error_keeps_the_last_answer(caplog: pytest.LogCaptureFixture) -> None:
    clock, ledger = Clock(), Ledger(EARLY)
    last = LedgerTime(clock)
    last.follow(ledger, interval=15)
    assert last.value() == EARLY.timestamp()
    ledger.answer = ConnectionError("database down")
    clock.now += 15
    with caplog.at_level(logging.WARNING, logger="ingestion.metrics"):
        assert last.value() == EARLY.timestamp()
    assert "cannot read the last successful run" in caplog.text
    assert last.value() == EARLY.timestamp()
    assert ledger.reads == 2  # not asked again before the interval passes


def test_own_success_shows_before_the_next_read() -> None:
    clock, ledger = Clock(), Ledger(EARLY)
    last = LedgerTime(clock)
    last.follow(ledger, interval=15)
    assert last.value() == EARLY.timestamp()
    last.mark(LATE)
    assert last.value() == LATE.timestamp()


def test_stopping_ends_the_reads_and_keeps_the_last_answer() -> None:
    ledger = Ledger(EARLY)
    last = LedgerTime()
    stop = last.follow(ledger, interval=0)
    assert last.value() == EARLY.timestamp()
    stop()
    ledger.answer = LATE
    assert last.value() == EARLY.timestamp()
    assert ledger.reads == 1


class FileRecords:
    """Stands in for `Ledger.newest_file_records`, counting the reads."""

    def __init__(self, answer: Mapping[str, RecordCounts]) -> None:
        self.answer: Mapping[str, RecordCounts] | Exception = answer
        self.reads = 0

    def __call__(self) -> Mapping[str, RecordCounts]:
        self.reads += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_share_counts_duplicates_once_and_needs_a_record_read() -> None:
    # 21 imported (1 a duplicate the catalog collapsed), 1 quarantined: 22 read, as the limit counts.
    assert quarantine_ratio(RecordCounts(imported=21, quarantined=1, duplicate=1)) == 1 / 22
    assert quarantine_ratio(RecordCounts(quarantined=3)) == 1.0
    assert quarantine_ratio(RecordCounts()) is None


def test_quarantine_ratios_are_one_series_per_file_name() -> None:
    ratios = QuarantineRatios(Clock())
    ratios.follow(
        FileRecords(
            {
                "ios.top100.json": RecordCounts(imported=97, quarantined=3),
                "android.top100.json": RecordCounts(imported=10, quarantined=12),
                "truncated.json": RecordCounts(),  # rejected before its first record: no share
            }
        ),
        interval=15,
    )
    registry = CollectorRegistry()
    registry.register(ratios)

    def sample(file: str) -> float | None:
        return registry.get_sample_value("ingestion_file_quarantine_ratio", {"file": file})

    assert sample("ios.top100.json") == 0.03
    assert sample("android.top100.json") == 12 / 22
    assert sample("truncated.json") is None


def test_quarantine_ratios_read_at_most_every_interval_and_drop_names_gone() -> None:
    clock = Clock()
    ledger = FileRecords({"ios.top100.json": RecordCounts(imported=99, quarantined=1)})
    ratios = QuarantineRatios(clock)
    assert ratios.ratios() == {}, "nothing before the ledger is followed (the CronJob's process)"
    ratios.follow(ledger, interval=15)
    assert ratios.ratios() == {"ios.top100.json": 0.01}
    ledger.answer = {"android.top100.json": RecordCounts(imported=998, quarantined=2)}
    assert ratios.ratios() == {"ios.top100.json": 0.01}
    assert ledger.reads == 1
    clock.now += 15
    assert ratios.ratios() == {"android.top100.json": 0.002}
    assert ledger.reads == 2


def test_quarantine_ratios_keep_the_last_answer_when_the_ledger_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    ledger = FileRecords({"ios.top100.json": RecordCounts(imported=97, quarantined=3)})
    ratios = QuarantineRatios(clock)
    ratios.follow(ledger, interval=15)
    registry = CollectorRegistry()
    registry.register(ratios)
    assert registry.get_sample_value("ingestion_file_quarantine_ratio", {"file": "ios.top100.json"}) == 0.03
    ledger.answer = ConnectionError("database down")
    clock.now += 15
    with caplog.at_level(logging.WARNING, logger="ingestion.metrics"):
        assert ratios.ratios() == {"ios.top100.json": 0.03}
    assert "cannot read the files' record counts from the ledger" in caplog.text
    assert ratios.ratios() == {"ios.top100.json": 0.03}
    assert ledger.reads == 2  # not asked again before the interval passes
