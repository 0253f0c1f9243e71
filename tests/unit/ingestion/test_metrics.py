"""The last-success figure: the process's own runs and the ledger's answer, read at most every interval."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from ingestion.metrics import LedgerTime

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
