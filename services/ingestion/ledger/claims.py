"""Exactly once: a run holds a file version only under a PostgreSQL session advisory lock.

The lock is taken with `pg_try_advisory_lock` on a connection of its own and held for the whole
import, across the attempts and the transactions that record them. A run that cannot take it, or
finds the file `imported` or `rejected`, skips the file (an operator's accept takes a rejected one).
When a process dies, PostgreSQL drops its connection and with it the lock, so a file left `importing`
is simply taken again by the next run.

A file ends `imported`; `rejected` when retrying cannot help (its reason kept, never taken again); or
`failed` for a transient reason. A run that finds a file still `importing` (its last run stopped while
importing it: killed, out of memory) counts that as a failure too. Once `RetryPolicy.failures` of them
span `RetryPolicy.window_seconds`, the file is rejected: a crash loop or a long outage ends, while a
short outage, however many S3 events retry it meanwhile, does not reject a good file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, case, func, select
from sqlalchemy.dialects.postgresql import insert

from gamekit.database.engines import advisory_lock_key, release_session_lock
from ingestion.ledger import tables as t
from ingestion.ledger.database import transaction, translate_errors
from ingestion.model import (
    DriftCount,
    FileEntry,
    FileState,
    RecordCounts,
    RepairEntry,
    RetryPolicy,
    SourceObject,
    clip,
)

ABANDONED = "a run stopped while importing it (killed, out of memory, its node lost)"

f, q, r = t.files, t.quarantined_records, t.file_repairs


class FileSkipped(Exception):
    """The file is not this run's to import; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FileGaveUp(FileSkipped):
    """Runs kept stopping while importing the file: it is now rejected, with `reason`."""


def settled_reason(row: RowMapping) -> str:
    """Why a files row (state, catalog_import, reject_reason) needs no run, or "" when it does."""
    if row["state"] == FileState.IMPORTED.value:
        return f"already imported as {row['catalog_import']}"
    if row["state"] == FileState.REJECTED.value:
        return f"rejected: {row['reject_reason']} (accept it to publish it)"
    return ""


def lock_key(source: SourceObject) -> int:
    """The advisory lock key of a file version (namespaced apart from the catalog's import locks)."""
    return advisory_lock_key("ingestion.files", source.bucket, source.key, source.etag, source.version_id)


class FileClaim:
    """A file version this run holds; records each attempt and the end of the import."""

    def __init__(self, *, engine: Engine, conn: Connection, file_id: int, accepting: bool = False) -> None:
        self._engine = engine
        self._conn = conn
        self.file_id = file_id
        self._accepting = accepting

    def begin_attempt(self) -> None:
        """Start an attempt: forget the quarantine and repairs of any earlier one.

        An accepted file keeps them: the operator judged the file by them, and if this import fails they
        are still the file's (the same bytes quarantine the same positions, written over in place).
        """
        with translate_errors(), self._conn.begin():
            if not self._accepting:
                self._conn.execute(q.delete().where(q.c.file_id == self.file_id))
                self._conn.execute(r.delete().where(r.c.file_id == self.file_id))
            self._conn.execute(
                f.update()
                .where(f.c.id == self.file_id)
                .values(state=FileState.IMPORTING.value, attempts=f.c.attempts + 1, update_time=func.now())
            )

    def add_quarantined(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """Record (position, raw, reason) of records set aside in this attempt; long reasons are clipped."""
        if not rows:
            return
        values = [
            {"file_id": self.file_id, "position": p, "raw": raw, "reason": clip(why)} for p, raw, why in rows
        ]
        statement = insert(q).values(values)
        statement = statement.on_conflict_do_update(
            constraint="quarantined_records_position_key",
            set_={"raw": statement.excluded.raw, "reason": statement.excluded.reason},
        )
        # Called from the thread feeding the catalog stream, so on a pooled connection of its own.
        with transaction(self._engine) as conn:
            conn.execute(statement)

    def add_repairs(self, repairs: Sequence[RepairEntry]) -> None:
        """Record how records of this attempt were repaired."""
        if not repairs:
            return
        values = [{**asdict(x), "file_id": self.file_id} for x in repairs]
        with transaction(self._engine) as conn:
            conn.execute(insert(r).values(values).on_conflict_do_nothing())

    def mark_imported(
        self,
        *,
        catalog_import: str,
        records: RecordCounts,
        drift: tuple[DriftCount, ...] = (),
        accepted_by: str = "",
    ) -> FileEntry:
        """The file is published in the catalog as `catalog_import` (by an operator's accept, when named)."""
        accepted = {"accepted_by": accepted_by, "accept_time": func.now()} if accepted_by else {}
        return self._end(
            records,
            state=FileState.IMPORTED.value,
            catalog_import=catalog_import,
            error="",
            reject_reason="",
            drift=t.drift_values(drift),
            **accepted,
        )

    def mark_rejected(
        self, *, reason: str, records: RecordCounts, drift: tuple[DriftCount, ...] = (), error: str = ""
    ) -> FileEntry:
        """The file cannot be published as it is: no run takes it again."""
        return self._end(
            records,
            state=FileState.REJECTED.value,
            catalog_import="",
            reject_reason=clip(reason),
            drift=t.drift_values(drift),
            error=clip(error),
        )

    def mark_failed(self, *, error: str, policy: RetryPolicy) -> FileEntry:
        """The file failed for a transient reason: the next run takes it, unless it failed too long."""
        return self._end(RecordCounts(), catalog_import="", **failure_values(clip(error), policy))

    def _end(self, records: RecordCounts, **values: Any) -> FileEntry:
        values = {"update_time": func.now(), **t.record_values(records), **values}
        with translate_errors(), self._conn.begin():
            row = (
                self._conn.execute(f.update().where(f.c.id == self.file_id).values(**values).returning(f))
                .mappings()
                .one()
            )
        return t.row_to_file(row)


def failure_values(error: str, policy: RetryPolicy) -> dict[str, Any]:
    """The column values of one more failure: `failed`, or `rejected` once they span the policy's window."""
    failures = f.c.failures + 1
    first = func.coalesce(f.c.first_failure_time, func.now())
    window = func.make_interval(0, 0, 0, 0, 0, 0, policy.window_seconds)
    gave_up = (failures >= policy.failures) & (func.now() - first >= window)
    reason = f"gave up after {policy.failures} or more failed runs over {policy.window_seconds / 3600:g} h"
    return {
        "error": error,
        "failures": failures,
        "first_failure_time": first,
        "state": case((gave_up, FileState.REJECTED.value), else_=FileState.FAILED.value),
        "reject_reason": case((gave_up, f"{reason}; the last: {error}"), else_=""),
    }


def _take(conn: Connection, source: SourceObject, run_id: int, accepting: bool, policy: RetryPolicy) -> int:
    """The file's ledger id, marked `importing` by this run; FileSkipped when settled."""
    with conn.begin():
        inserted = (
            conn.execute(
                insert(f)
                .values(
                    bucket=source.bucket,
                    key=source.key,
                    etag=source.etag,
                    version_id=source.version_id,
                    size=source.size,
                    state=FileState.IMPORTING.value,
                    run_id=run_id,
                )
                .on_conflict_do_nothing(constraint="files_version_key")
                .returning(f.c.id)
            ).first()
            is not None
        )
        held = (
            select(f.c.id, f.c.state, f.c.catalog_import, f.c.reject_reason)
            .where(*t.version_of(source))
            .with_for_update()
        )
        row = conn.execute(held).mappings().one()
        if (reason := settled_reason(row)) and not (accepting and row["state"] == FileState.REJECTED.value):
            raise FileSkipped(reason)
        gave_up = ""
        if not inserted and row["state"] == FileState.IMPORTING.value:
            # We hold its lock, so the run that left it `importing` is gone.
            ended = conn.execute(
                f.update()
                .where(f.c.id == row["id"])
                .values(update_time=func.now(), run_id=run_id, **failure_values(ABANDONED, policy))
                .returning(f.c.state, f.c.reject_reason)
            ).one()
            if ended.state == FileState.REJECTED.value:
                gave_up = ended.reject_reason
        if not gave_up:
            conn.execute(
                f.update()
                .where(f.c.id == row["id"])
                .values(state=FileState.IMPORTING.value, run_id=run_id, update_time=func.now())
            )
    if gave_up:  # committed first: the rejection stands
        raise FileGaveUp(gave_up)
    file_id: int = row["id"]
    return file_id


@contextmanager
def claim_file(
    *,
    engine: Engine,
    source: SourceObject,
    run_id: int,
    accepting: bool = False,
    policy: RetryPolicy | None = None,
) -> Iterator[FileClaim]:
    """Hold a file version for `run_id` until the block ends; FileSkipped when it is not ours."""
    key = lock_key(source)
    with translate_errors():
        conn = engine.connect()
    try:
        with translate_errors():
            locked = conn.execute(select(func.pg_try_advisory_lock(key))).scalar_one()
            conn.commit()
        if not locked:
            raise FileSkipped("being imported by a concurrent run")
        try:
            with translate_errors():
                file_id = _take(conn, source, run_id, accepting, policy or RetryPolicy())
            yield FileClaim(engine=engine, conn=conn, file_id=file_id, accepting=accepting)
        finally:
            release_session_lock(conn, key)
    finally:
        conn.close()
