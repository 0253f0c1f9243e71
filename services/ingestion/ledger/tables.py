"""The ledger's tables as SQLAlchemy Core objects, and rows turned into domain dataclasses.

The DDL itself is in the Alembic migrations; these definitions must match them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ColumnElement, DateTime, Integer, MetaData, RowMapping, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from ingestion.model import (
    DriftCount,
    FileEntry,
    FileState,
    QuarantinedRecord,
    RecordCounts,
    Run,
    RunState,
    RunTrigger,
    SourceObject,
)

SCHEMA = "ingestion"
metadata = MetaData(schema=SCHEMA)
_TS = DateTime(timezone=True)
# The RecordCounts of a run or of a file: column name -> RecordCounts attribute.
_RECORD_COLUMNS = {f"records_{name}": name for name in RecordCounts.__dataclass_fields__}


def _record_columns() -> list[Column[int]]:
    return [Column(name, BigInteger, nullable=False) for name in _RECORD_COLUMNS]


runs = Table(
    "runs",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("trigger", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("start_time", _TS, nullable=False),
    Column("end_time", _TS),
    Column("files_imported", BigInteger, nullable=False),
    Column("files_skipped", BigInteger, nullable=False),
    Column("files_failed", BigInteger, nullable=False),
    Column("files_rejected", BigInteger, nullable=False),
    *_record_columns(),
    Column("error", Text, nullable=False),
)

files = Table(
    "files",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("bucket", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("etag", Text, nullable=False),
    Column("version_id", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("catalog_import", Text, nullable=False),
    Column("error", Text, nullable=False),
    *_record_columns(),
    Column("attempts", Integer, nullable=False),
    Column("run_id", BigInteger),
    Column("create_time", _TS, nullable=False),
    Column("update_time", _TS, nullable=False),
    Column("reject_reason", Text, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("first_failure_time", _TS),
    Column("drift", JSONB, nullable=False),
    Column("accepted_by", Text, nullable=False),
    Column("accept_time", _TS),
)

quarantined_records = Table(
    "quarantined_records",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("file_id", BigInteger, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("raw", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("create_time", _TS, nullable=False),
)

file_repairs = Table(
    "file_repairs",
    metadata,
    Column("file_id", BigInteger, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("field", Text, primary_key=True),
    Column("original", Text, nullable=False),
    Column("repaired", Text, nullable=False),
    Column("encoding", Text, nullable=False),
)


def version_of(source: SourceObject) -> list[ColumnElement[bool]]:
    """The files row of this one delivered file version (its ledger identity)."""
    return [
        files.c.bucket == source.bucket,
        files.c.key == source.key,
        files.c.etag == source.etag,
        files.c.version_id == source.version_id,
    ]


def record_values(counts: RecordCounts) -> dict[str, int]:
    """Column values of record counts."""
    return {column: getattr(counts, name) for column, name in _RECORD_COLUMNS.items()}


def drift_values(drift: tuple[DriftCount, ...]) -> list[dict[str, object]]:
    """The `drift` column's JSON for a file's drift summary."""
    return [vars(x) for x in drift]


def row_to_run(row: RowMapping, failures: tuple[tuple[str, str], ...] = ()) -> Run:
    """A runs row as a Run (its attributes are the columns), with the (key, reason) of its failed files."""
    states = {"trigger": RunTrigger(row["trigger"]), "state": RunState(row["state"])}
    return Run(**{**row, **states}, failures=failures)


def row_to_file(row: RowMapping) -> FileEntry:
    """A files row as a FileEntry."""
    return FileEntry(
        id=row["id"],
        source=SourceObject(
            bucket=row["bucket"],
            key=row["key"],
            etag=row["etag"],
            version_id=row["version_id"],
            size=row["size"],
        ),
        state=FileState(row["state"]),
        catalog_import=row["catalog_import"],
        error=row["error"],
        records=RecordCounts(**{name: row[column] for column, name in _RECORD_COLUMNS.items()}),
        attempts=row["attempts"],
        run_id=row["run_id"],
        update_time=row["update_time"],
        reject_reason=row["reject_reason"],
        failures=row["failures"],
        first_failure_time=row["first_failure_time"],
        drift=tuple(DriftCount(**x) for x in row["drift"]),
        accepted_by=row["accepted_by"],
        accept_time=row["accept_time"],
    )


def row_to_quarantined(row: RowMapping) -> QuarantinedRecord:
    """A quarantined_records row (joined with its file's key) as a QuarantinedRecord."""
    return QuarantinedRecord(
        file_id=row["file_id"],
        key=row["key"],
        position=row["position"],
        raw=row["raw"],
        reason=row["reason"],
        create_time=row["create_time"],
    )
