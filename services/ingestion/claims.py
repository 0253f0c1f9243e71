"""Exactly once: a run holds a file version only under a PostgreSQL session advisory lock.

The lock is taken with `pg_try_advisory_lock` on a connection of its own and held for the whole
import, across the attempts and the transactions that record them. A run that cannot take it, or
finds the file `imported` or `rejected`, skips the file (an operator's accept takes a rejected one).
When a process dies, PostgreSQL drops its connection and with it the lock, so a file left `importing`
is simply taken again by the next run.

A file ends `imported`; `rejected` when retrying cannot help (its reason kept, never taken again); or
`failed` for a transient reason, until `max_failures` runs have failed it, when it is rejected too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, RowMapping, case, func, select
from sqlalchemy.dialects.postgresql import insert

from gamekit.database import advisory_lock_key, release_session_lock
from ingestion import ledger_tables as t
from ingestion.db import transaction, translate_errors
from ingestion.model import DriftCount, FileEntry, FileState, RecordCounts, RepairEntry, SourceObject

f, q, r = t.files, t.quarantined_records, t.file_repairs


class FileSkipped(Exception):
    """The file is not this run's to import; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def _identity(source: SourceObject) -> list[ColumnElement[bool]]:
    return [
        f.c.bucket == source.bucket,
        f.c.key == source.key,
        f.c.etag == source.etag,
        f.c.version_id == source.version_id,
    ]


class FileClaim:
    """A file version this run holds; records each attempt and the end of the import."""

    def __init__(self, *, engine: Engine, conn: Connection, file_id: int) -> None:
        self._engine = engine
        self._conn = conn
        self.file_id = file_id

    def begin_attempt(self) -> None:
        """Start an attempt: forget the quarantine and repairs of any earlier one."""
        with translate_errors(), self._conn.begin():
            self._conn.execute(q.delete().where(q.c.file_id == self.file_id))
            self._conn.execute(r.delete().where(r.c.file_id == self.file_id))
            self._conn.execute(
                f.update()
                .where(f.c.id == self.file_id)
                .values(state=FileState.IMPORTING.value, attempts=f.c.attempts + 1, update_time=func.now())
            )

    def add_quarantined(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """Record (position, raw, reason) of records set aside in this attempt."""
        if not rows:
            return
        values = [{"file_id": self.file_id, "position": p, "raw": raw, "reason": why} for p, raw, why in rows]
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
        self, *, reason: str, records: RecordCounts, drift: tuple[DriftCount, ...] = ()
    ) -> FileEntry:
        """The file cannot be published as it is: no run takes it again."""
        return self._end(
            records,
            state=FileState.REJECTED.value,
            catalog_import="",
            reject_reason=reason,
            drift=t.drift_values(drift),
        )

    def mark_failed(self, *, error: str, max_failures: int) -> FileEntry:
        """The file failed for a transient reason: the next run takes it, unless it failed too often."""
        failures = f.c.failures + 1
        gave_up = f"gave up after {max_failures} failed runs; the last: {error}"
        return self._end(
            RecordCounts(),
            catalog_import="",
            error=error,
            failures=failures,
            state=case((failures >= max_failures, FileState.REJECTED.value), else_=FileState.FAILED.value),
            reject_reason=case((failures >= max_failures, gave_up), else_=""),
        )

    def _end(self, records: RecordCounts, **values: Any) -> FileEntry:
        values = {"update_time": func.now(), **t.record_values(records), **values}
        with translate_errors(), self._conn.begin():
            row = (
                self._conn.execute(f.update().where(f.c.id == self.file_id).values(**values).returning(f))
                .mappings()
                .one()
            )
        return t.row_to_file(row)


def _take(conn: Connection, source: SourceObject, run_id: int, accepting: bool) -> int:
    """The file's ledger id, marked `importing` by this run; FileSkipped when settled."""
    with conn.begin():
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
        )
        held = (
            select(f.c.id, f.c.state, f.c.catalog_import, f.c.reject_reason)
            .where(*_identity(source))
            .with_for_update()
        )
        row = conn.execute(held).mappings().one()
        if (reason := settled_reason(row)) and not (accepting and row["state"] == FileState.REJECTED.value):
            raise FileSkipped(reason)
        conn.execute(
            f.update()
            .where(f.c.id == row["id"])
            .values(state=FileState.IMPORTING.value, run_id=run_id, update_time=func.now())
        )
    file_id: int = row["id"]
    return file_id


@contextmanager
def claim_file(
    *, engine: Engine, source: SourceObject, run_id: int, accepting: bool = False
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
                file_id = _take(conn, source, run_id, accepting)
            yield FileClaim(engine=engine, conn=conn, file_id=file_id)
        finally:
            release_session_lock(conn, key)
    finally:
        conn.close()
