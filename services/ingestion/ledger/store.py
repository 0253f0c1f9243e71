"""The ledger: runs, files, quarantined records and repairs, in ingestion's own schema.

Every method returns domain dataclasses from `ingestion.model`, never rows; listings are keyset
paginated with opaque page tokens. Holding a file for import lives in `ingestion.ledger.claims`, keeping a run
alive in `ingestion.ledger.run_leases`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Select, func, select, text

from gamekit.errors import NotFound
from gamekit.paging.pages import PageBudget
from gamekit.paging.tokens import PageTokens, page_size
from ingestion.ledger import tables as t
from ingestion.ledger.claims import FileClaim, claim_file, settled_reason
from ingestion.ledger.database import connection, transaction
from ingestion.ledger.run_leases import fail_abandoned_runs, run_lease
from ingestion.model import (
    FileCounts,
    FileEntry,
    FileState,
    Page,
    QuarantinedRecord,
    RecordCounts,
    RepairEntry,
    RetryPolicy,
    Run,
    RunState,
    RunTrigger,
    SourceObject,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
runs, files, quarantined, repairs = t.runs, t.files, t.quarantined_records, t.file_repairs


class Ledger:
    """What ingestion did, kept in PostgreSQL; sessions come from the engine passed in."""

    def __init__(
        self,
        *,
        engine: Engine,
        page_tokens: PageTokens,
        page_budget: PageBudget,
        default_page_size: int = 50,
        max_page_size: int = 1000,
    ) -> None:
        self._engine = engine
        self._tokens = page_tokens
        self._budget = page_budget
        self._default_page_size = default_page_size
        self._max_page_size = max_page_size

    def ping(self) -> bool:
        """True when the ledger database answers."""
        try:
            with connection(self._engine) as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def running(self, trigger: RunTrigger) -> AbstractContextManager[Run]:
        """A new run, `running` until `end_run`, kept alive by its lock while the block lasts.

        Runs whose process died first get marked `failed` (see `ingestion.ledger.run_leases`).
        """
        for run_id in fail_abandoned_runs(self._engine):
            log.warning(
                "a run ended without recording its end (its process stopped); marked failed",
                extra={"fields": {"run": f"runs/{run_id}"}},
            )
        return run_lease(self._engine, trigger)

    def end_run(self, run_id: int, *, files: FileCounts, records: RecordCounts, error: str = "") -> Run:
        """End a run: `succeeded` when no file failed or was rejected and nothing else went wrong."""
        state = RunState.FAILED if files.failed or files.rejected or error else RunState.SUCCEEDED
        with transaction(self._engine) as conn:
            row = (
                conn.execute(
                    runs.update()
                    .where(runs.c.id == run_id)
                    .values(
                        state=state.value,
                        end_time=func.clock_timestamp(),
                        files_imported=files.imported,
                        files_skipped=files.skipped,
                        files_failed=files.failed,
                        files_rejected=files.rejected,
                        error=error,
                        **t.record_values(records),
                    )
                    .returning(runs)
                )
                .mappings()
                .one()
            )
            return t.row_to_run(row, _failures(conn, run_id))

    def settled(self, source: SourceObject) -> str:
        """Why this file version needs no run ("already imported", "rejected: ..."), or "" (a cheap look)."""
        query = select(files.c.state, files.c.catalog_import, files.c.reject_reason).where(
            *t.version_of(source)
        )
        with connection(self._engine) as conn:
            row = conn.execute(query).mappings().first()
        return "" if row is None else settled_reason(row)

    def claim(
        self, source: SourceObject, *, run_id: int, accepting: bool = False, policy: RetryPolicy | None = None
    ) -> AbstractContextManager[FileClaim]:
        """Hold a file version for a run; FileSkipped when settled (see `settled`) or held by another run.

        `accepting` takes a rejected file too: an operator accepted it.
        """
        return claim_file(
            engine=self._engine, source=source, run_id=run_id, accepting=accepting, policy=policy
        )

    def get_run(self, run_id: int) -> Run:
        """One run; NotFound when missing."""
        with connection(self._engine) as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
            if row is None:
                raise NotFound(f"runs/{run_id} does not exist")
            return t.row_to_run(row, _failures(conn, run_id))

    def get_file(self, file_id: int) -> FileEntry:
        """One file; NotFound when missing."""
        with connection(self._engine) as conn:
            row = conn.execute(select(files).where(files.c.id == file_id)).mappings().first()
        if row is None:
            raise NotFound(f"files/{file_id} does not exist")
        return t.row_to_file(row)

    def list_runs(self, *, page_size: int = 0, page_token: str = "") -> Page[Run]:
        """Runs, newest first."""
        return self._page(select(runs), runs.c.id, t.row_to_run, "runs", {}, page_size, page_token)

    def list_files(self, *, page_size: int = 0, page_token: str = "") -> Page[FileEntry]:
        """Files, newest first."""
        return self._page(select(files), files.c.id, t.row_to_file, "files", {}, page_size, page_token)

    def list_quarantined(
        self, *, file_id: int | None = None, page_size: int = 0, page_token: str = ""
    ) -> Page[QuarantinedRecord]:
        """Quarantined records, of one file or of all, newest first."""
        query = select(quarantined, files.c.key).join(files, files.c.id == quarantined.c.file_id)
        if file_id is not None:
            query = query.where(quarantined.c.file_id == file_id)
        filters = {"file": "" if file_id is None else str(file_id)}
        return self._page(
            query, quarantined.c.id, t.row_to_quarantined, "quarantined", filters, page_size, page_token
        )

    def list_repairs(self, file_id: int, *, limit: int = 1000) -> list[RepairEntry]:
        """How records of a file were repaired, by position."""
        query = (
            select(repairs)
            .where(repairs.c.file_id == file_id)
            .order_by(repairs.c.position, repairs.c.field)
            .limit(limit)
        )
        with connection(self._engine) as conn:
            return [RepairEntry(**row) for row in conn.execute(query).mappings()]

    def last_success_time(self) -> datetime | None:
        """When the last successful run ended, if any did."""
        return self._newest(runs.c.end_time, runs.c.state == RunState.SUCCEEDED.value)

    def last_rejection_time(self) -> datetime | None:
        """When a file still rejected was last rejected, if one is."""
        return self._newest(files.c.update_time, files.c.state == FileState.REJECTED.value)

    def newest_file_records(self, *, within: timedelta = timedelta(days=7)) -> dict[str, RecordCounts]:
        """Record counts of the newest finished (imported or rejected) version of each delivered file name.

        A name is the key's last segment, the same file whether delivered under dated prefixes or over
        one key. Only versions finished in the last `within` count, so a name no longer delivered drops
        out. "Newest" is the version first seen last (the highest id), not the last one touched: an
        operator accepting an old version does not make it the newest delivery.
        """
        name = func.regexp_replace(files.c.key, "^.*/", "").label("name")
        window = func.make_interval(0, 0, 0, 0, 0, 0, within.total_seconds())
        query = (
            select(files, name)
            .where(
                files.c.state.in_([FileState.IMPORTED.value, FileState.REJECTED.value]),
                files.c.update_time >= func.now() - window,
            )
            .distinct(name)  # PostgreSQL's DISTINCT ON: the first row of each name in this order
            .order_by(name, files.c.id.desc())
        )
        with connection(self._engine) as conn:
            return {row["name"]: t.row_to_file(row).records for row in conn.execute(query).mappings()}

    def _newest(self, column: Any, where: Any) -> datetime | None:
        with connection(self._engine) as conn:
            value: datetime | None = conn.execute(select(func.max(column)).where(where)).scalar_one()
        return value

    def _page(
        self,
        query: Select[Any],
        id_column: Any,
        convert: Callable[[Any], T],
        kind: str,
        filters: dict[str, str],
        requested: int,
        token: str,
    ) -> Page[T]:
        size = page_size(requested, default=self._default_page_size, maximum=self._max_page_size)
        cursor = self._tokens.decode(token, kind=kind, filters=filters)
        if cursor is not None:
            query = query.where(id_column < int(cursor[0]))
        query = query.order_by(id_column.desc()).limit(size + 1)
        with connection(self._engine) as conn:
            rows: Sequence[Any] = conn.execute(query).mappings().all()
        items, more = self._budget.take((convert(row) for row in rows), size)
        if not more:
            return Page(items=items)
        cursor = [rows[len(items) - 1]["id"]]
        return Page(
            items=items, next_page_token=self._tokens.encode(kind=kind, filters=filters, cursor=cursor)
        )


def _failures(conn: Connection, run_id: int) -> tuple[tuple[str, str], ...]:
    """(key, reason) of the files a run failed or rejected, in the order it met them."""
    query = (
        select(files.c.key, files.c.state, files.c.error, files.c.reject_reason)
        .where(
            files.c.run_id == run_id,
            files.c.state.in_([FileState.FAILED.value, FileState.REJECTED.value]),
        )
        .order_by(files.c.id)
    )
    return tuple(
        (key, f"rejected: {rejected}" if state == FileState.REJECTED.value else error)
        for key, state, error, rejected in conn.execute(query)
    )
