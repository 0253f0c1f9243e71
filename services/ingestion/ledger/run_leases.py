"""A run is alive while its process holds the run's advisory lock; a `running` row without it is dead.

A run inserts its row and takes a session advisory lock keyed on its id in the same transaction, on a
connection it keeps until the run ends, so whoever can see the row finds the lock held. When the
process dies (killed, out of memory, its node lost), PostgreSQL drops the connection and the lock with
it. Each new run first marks every `running` row whose lock it can take as `failed`, with the reason,
so ListRuns stops showing runs that will never end. Their files need nothing: `ingestion.ledger.claims`
takes a file left `importing` again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, func, select

from gamekit.database.engines import advisory_lock_key, release_session_lock
from ingestion.ledger import tables as t
from ingestion.ledger.database import translate_errors
from ingestion.model import Run, RunState, RunTrigger

runs = t.runs

ABANDONED = (
    "the run ended without recording its end (its process stopped or crashed, or lost the ledger"
    " database); the next run takes its files again"
)


def run_lock_key(run_id: int) -> int:
    """The advisory lock key of a run (namespaced apart from the file locks and the catalog's)."""
    return advisory_lock_key("ingestion.runs", run_id)


@contextmanager
def run_lease(engine: Engine, trigger: RunTrigger) -> Iterator[Run]:
    """A new `running` run, shown alive by its lock until the block ends."""
    with translate_errors():
        conn = engine.connect()
    key: int | None = None
    try:
        with translate_errors(), conn.begin():
            row = (
                conn.execute(
                    runs.insert().values(trigger=trigger.value, state=RunState.RUNNING.value).returning(runs)
                )
                .mappings()
                .one()
            )
            key = run_lock_key(row["id"])
            conn.execute(select(func.pg_advisory_lock(key)))
        yield t.row_to_run(row)
    finally:
        if key is not None:
            release_session_lock(conn, key)  # even when the commit failed
        conn.close()


def fail_abandoned_runs(engine: Engine) -> list[int]:
    """Mark `failed` every `running` run whose process is gone; their ids."""
    abandoned: list[int] = []
    with translate_errors(), engine.connect() as conn:
        with conn.begin():
            running = conn.execute(select(runs.c.id).where(runs.c.state == RunState.RUNNING.value)).scalars()
            candidates = list(running)
        for run_id in candidates:
            key = run_lock_key(run_id)
            with conn.begin():
                alive = not conn.execute(select(func.pg_try_advisory_lock(key))).scalar_one()
            if alive:
                continue
            try:
                with conn.begin():
                    # Still `running`: a run that ended since the listing released its lock too.
                    ended = conn.execute(
                        runs.update()
                        .where(runs.c.id == run_id, runs.c.state == RunState.RUNNING.value)
                        .values(state=RunState.FAILED.value, end_time=func.clock_timestamp(), error=ABANDONED)
                    )
                if ended.rowcount:
                    abandoned.append(run_id)
            finally:
                release_session_lock(conn, key)
    return abandoned
