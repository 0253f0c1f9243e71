"""The ledger on real PostgreSQL: claims under advisory locks, attempts, runs, paging."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from gamekit.errors import InvalidArgument, NotFound
from gamekit.paging.tokens import PageTokens
from ingestion.app import page_budget
from ingestion.ledger.claims import FileGaveUp, FileSkipped
from ingestion.ledger.store import Ledger
from ingestion.ledger.tables import runs
from ingestion.model import (
    DriftCount,
    FileCounts,
    FileState,
    RecordCounts,
    RepairEntry,
    RetryPolicy,
    Run,
    RunState,
    RunTrigger,
    SourceObject,
)

SOURCE = SourceObject(bucket="deliveries", key="2026-11-23/ios.top100.json", etag="abc", size=10)


@pytest.fixture
def ledger(ledger_engine: Engine) -> Ledger:
    return Ledger(
        engine=ledger_engine,
        page_tokens=PageTokens(b"k" * 32),
        page_budget=page_budget(),
        default_page_size=2,
        max_page_size=10,
    )


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
    assert ledger.settled(SOURCE) == "already imported as imports/7"
    with (
        pytest.raises(FileSkipped, match="already imported as imports/7"),
        ledger.claim(SOURCE, run_id=run.id),
    ):
        pass
    other_version = SourceObject(bucket=SOURCE.bucket, key=SOURCE.key, etag="def")
    assert ledger.settled(other_version) == ""
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
        entry = claim.mark_failed(error="the catalog is unavailable", policy=RetryPolicy(3, 0))
    assert (entry.state, entry.attempts, entry.error) == (FileState.FAILED, 2, "the catalog is unavailable")
    assert (entry.failures, entry.reject_reason) == (1, "")
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
            claim.mark_failed(error="truncated", policy=RetryPolicy(3, 0))
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
    ledger: Ledger, ledger_engine: Engine
) -> None:
    # What a killed run leaves: its row `running`, and no session holding its lock.
    with ledger_engine.begin() as conn:
        dead_id = conn.execute(
            runs.insert().values(trigger="schedule", state="running").returning(runs.c.id)
        ).scalar_one()
    with ledger.running(RunTrigger.ADMIN) as live, ledger.running(RunTrigger.EVENT):
        assert ledger.get_run(live.id).state is RunState.RUNNING
    dead = ledger.get_run(dead_id)
    assert dead.state is RunState.FAILED
    assert dead.error.startswith("the run ended without recording its end")
    assert dead.end_time is not None


def test_a_rejected_file_is_never_claimed_again_unless_accepted(ledger: Ledger, run: Run) -> None:
    drift = (DriftCount("categories", "a string", "converted", 12),)
    with ledger.claim(SOURCE, run_id=run.id) as claim:
        claim.begin_attempt()
        claim.add_quarantined([(0, "{}", "empty record")])
        entry = claim.mark_rejected(
            reason="9 of 10 records quarantined", records=RecordCounts(quarantined=9), drift=drift
        )
    assert (entry.state, entry.reject_reason, entry.drift) == (
        FileState.REJECTED,
        "9 of 10 records quarantined",
        drift,
    )
    assert ledger.settled(SOURCE).startswith("rejected: 9 of 10 records quarantined")
    with pytest.raises(FileSkipped, match="rejected: 9 of 10"), ledger.claim(SOURCE, run_id=run.id):
        pass
    with ledger.claim(SOURCE, run_id=run.id, accepting=True) as claim:
        claim.begin_attempt()
        accepted = claim.mark_imported(
            catalog_import="imports/8", records=RecordCounts(imported=1), accepted_by="ops via spiffe://x"
        )
    assert (accepted.state, accepted.accepted_by, accepted.reject_reason) == (
        FileState.IMPORTED,
        "ops via spiffe://x",
        "",
    )
    assert accepted.accept_time is not None


def fail_runs(ledger: Ledger, policy: RetryPolicy, times: int) -> list[tuple[FileState, int]]:
    states = []
    for n in range(times):
        with ledger.running(RunTrigger.SCHEDULE) as run, ledger.claim(SOURCE, run_id=run.id) as claim:
            claim.begin_attempt()
            entry = claim.mark_failed(error=f"the catalog is unavailable ({n})", policy=policy)
            states.append((entry.state, entry.failures))
        ledger.end_run(run.id, files=FileCounts(failed=1), records=RecordCounts())
    return states


def test_a_file_failed_by_enough_runs_over_the_window_is_rejected_with_the_last_error(ledger: Ledger) -> None:
    states = fail_runs(ledger, RetryPolicy(3, 0), 3)
    assert states == [(FileState.FAILED, 1), (FileState.FAILED, 2), (FileState.REJECTED, 3)]
    (entry,) = ledger.list_files().items
    assert (
        entry.reject_reason
        == "gave up after 3 or more failed runs over 0 h; the last: the catalog is unavailable (2)"
    )
    (run,) = ledger.list_runs(page_size=1).items
    assert ledger.get_run(run.id).failures == ((SOURCE.key, f"rejected: {entry.reject_reason}"),)


def test_failed_runs_within_the_window_never_reject_a_file(ledger: Ledger) -> None:
    # S3 events retry a file every visibility timeout: a short outage must not reject a good file.
    states = fail_runs(ledger, RetryPolicy(3, 3600), 6)
    assert states[-1] == (FileState.FAILED, 6)


def test_runs_that_stop_while_importing_a_file_count_and_end_in_rejection(ledger: Ledger) -> None:
    policy = RetryPolicy(3, 0)
    for _ in range(3):  # each block ends without marking the file: as if the process had died
        with (
            ledger.running(RunTrigger.SCHEDULE) as run,
            ledger.claim(SOURCE, run_id=run.id, policy=policy) as claim,
        ):
            claim.begin_attempt()
    with (
        ledger.running(RunTrigger.SCHEDULE) as run,
        pytest.raises(FileGaveUp, match="gave up after 3 or more failed runs"),
        ledger.claim(SOURCE, run_id=run.id, policy=policy),
    ):
        pass
    (entry,) = ledger.list_files().items
    assert (entry.state, entry.failures) == (FileState.REJECTED, 3)
    assert entry.reject_reason.endswith(
        "the last: a run stopped while importing it (killed, out of memory, its node lost)"
    )
