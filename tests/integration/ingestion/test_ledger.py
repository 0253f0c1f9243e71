"""The ledger on real PostgreSQL: claims under advisory locks, attempts, runs, paging."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from gamekit.errors import InvalidArgument, NotFound
from gamekit.page_tokens import PageTokens
from ingestion.claims import FileSkipped
from ingestion.db import make_engine
from ingestion.ledger import Ledger
from ingestion.ledger_tables import runs
from ingestion.model import (
    FileCounts,
    FileState,
    RecordCounts,
    RepairEntry,
    Run,
    RunState,
    RunTrigger,
    SourceObject,
)

SOURCE = SourceObject(bucket="deliveries", key="2026-11-23/ios.top100.json", etag="abc", size=10)


@pytest.fixture
def engine(platform_database_url: str) -> Iterator[Engine]:
    engine = make_engine(platform_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def ledger(engine: Engine) -> Ledger:
    return Ledger(engine=engine, page_tokens=PageTokens(b"k" * 32), default_page_size=2, max_page_size=10)


@pytest.fixture
def run(ledger: Ledger) -> Iterator[Run]:
    """A run in progress for the test's claims."""
    with ledger.running(RunTrigger.SCHEDULE) as run:
        yield run


def test_a_file_is_claimed_once_and_skipped_once_imported(ledger: Ledger, run: Run) -> None:
    with ledger.claim(SOURCE, run_id=run.id) as claim:
        with pytest.raises(FileSkipped, match="concurrent run"), ledger.claim(SOURCE, run_id=run.id):
            pass
        claim.begin_attempt()
        entry = claim.mark_imported(catalog_import="imports/7", records=RecordCounts(imported=3))
    assert entry.state is FileState.IMPORTED
    assert ledger.is_imported(SOURCE)
    with (
        pytest.raises(FileSkipped, match="already imported as imports/7"),
        ledger.claim(SOURCE, run_id=run.id),
    ):
        pass
    other_version = SourceObject(bucket=SOURCE.bucket, key=SOURCE.key, etag="def")
    assert not ledger.is_imported(other_version)
    with ledger.claim(other_version, run_id=run.id) as claim:
        assert claim.file_id != entry.id


def test_an_abandoned_importing_file_is_taken_again(ledger: Ledger, run: Run) -> None:
    with ledger.claim(SOURCE, run_id=run.id) as claim:
        claim.begin_attempt()
        first_id = claim.file_id
    # The block ended without marking the file: as if the process had died while importing.
    assert ledger.get_file(first_id).state is FileState.IMPORTING
    with ledger.claim(SOURCE, run_id=run.id) as claim:
        assert claim.file_id == first_id


def test_each_attempt_replaces_the_quarantine_and_repairs(ledger: Ledger, run: Run) -> None:
    with ledger.claim(SOURCE, run_id=run.id) as claim:
        claim.begin_attempt()
        claim.add_quarantined([(1, "{}", "empty"), (4, '{"name": 3}', "wrong type")])
        claim.add_repairs([RepairEntry(claim.file_id, 2, "name", "Pok\\udc8emon", "Pokémon", "mac_roman")])
        claim.begin_attempt()
        claim.add_quarantined([(1, "{}", "empty object")])
        claim.add_repairs([RepairEntry(claim.file_id, 2, "name", "Pok\\udc8emon", "Pokémon", "mac_roman")])
        entry = claim.mark_failed(error="the catalog is unavailable")
    assert (entry.state, entry.attempts, entry.error) == (FileState.FAILED, 2, "the catalog is unavailable")
    records = ledger.list_quarantined(file_id=entry.id).items
    assert [(r.position, r.reason, r.key) for r in records] == [(1, "empty object", SOURCE.key)]
    assert [(x.position, x.repaired) for x in ledger.list_repairs(entry.id)] == [(2, "Pokémon")]


def test_runs_end_and_page_newest_first(ledger: Ledger) -> None:
    with ledger.running(RunTrigger.SCHEDULE) as ok:
        ended = ledger.end_run(
            ok.id, files=FileCounts(imported=2, skipped=1), records=RecordCounts(imported=5)
        )
    assert ended.state is RunState.SUCCEEDED
    assert ended.end_time is not None
    assert ledger.last_success_time() == ended.end_time
    with ledger.running(RunTrigger.ADMIN) as bad:
        with ledger.claim(SOURCE, run_id=bad.id) as claim:
            claim.mark_failed(error="truncated")
        failed = ledger.end_run(bad.id, files=FileCounts(failed=1), records=RecordCounts())
    assert failed.state is RunState.FAILED
    assert failed.failures == ((SOURCE.key, "truncated"),)
    with ledger.running(RunTrigger.EVENT) as third:
        first = ledger.list_runs()
    assert [r.id for r in first.items] == [third.id, bad.id]
    second = ledger.list_runs(page_token=first.next_page_token)
    assert [r.id for r in second.items] == [ok.id]
    assert second.next_page_token == ""
    assert ledger.get_run(bad.id).failures == ((SOURCE.key, "truncated"),)
    with pytest.raises(NotFound):
        ledger.get_run(999)
    with pytest.raises(InvalidArgument):
        ledger.list_runs(page_size=11)
    with pytest.raises(InvalidArgument):
        ledger.list_files(page_token=first.next_page_token)


def test_a_run_whose_process_died_is_failed_by_the_next_and_a_live_one_is_not(
    ledger: Ledger, engine: Engine
) -> None:
    # What a killed run leaves: its row `running`, and no session holding its lock.
    with engine.begin() as conn:
        dead_id = conn.execute(
            runs.insert().values(trigger="schedule", state="running").returning(runs.c.id)
        ).scalar_one()
    with ledger.running(RunTrigger.ADMIN) as live, ledger.running(RunTrigger.EVENT):
        assert ledger.get_run(live.id).state is RunState.RUNNING
    dead = ledger.get_run(dead_id)
    assert dead.state is RunState.FAILED
    assert dead.error.startswith("the run ended without recording its end")
    assert dead.end_time is not None
