"""The ledger's tables as SQLAlchemy Core objects, and rows turned into domain dataclasses.

The DDL itself is in the Alembic migrations; these definitions must match them.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, RowMapping, Table, Text

from ingestion.model import (
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
    Column("records_imported", BigInteger, nullable=False),
    Column("records_repaired", BigInteger, nullable=False),
    Column("records_quarantined", BigInteger, nullable=False),
    Column("records_duplicate", BigInteger, nullable=False),
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
    Column("records_imported", BigInteger, nullable=False),
    Column("records_repaired", BigInteger, nullable=False),
    Column("records_quarantined", BigInteger, nullable=False),
    Column("records_duplicate", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("run_id", BigInteger),
    Column("create_time", _TS, nullable=False),
    Column("update_time", _TS, nullable=False),
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


def _records(row: RowMapping) -> RecordCounts:
    return RecordCounts(
        imported=row["records_imported"],
        repaired=row["records_repaired"],
        quarantined=row["records_quarantined"],
        duplicate=row["records_duplicate"],
    )


def record_values(counts: RecordCounts) -> dict[str, int]:
    """Column values of record counts."""
    return {
        "records_imported": counts.imported,
        "records_repaired": counts.repaired,
        "records_quarantined": counts.quarantined,
        "records_duplicate": counts.duplicate,
    }


def row_to_run(row: RowMapping, failures: tuple[tuple[str, str], ...] = ()) -> Run:
    """A runs row as a Run, with the (key, reason) of its failed files when given."""
    return Run(
        id=row["id"],
        trigger=RunTrigger(row["trigger"]),
        state=RunState(row["state"]),
        start_time=row["start_time"],
        end_time=row["end_time"],
        files_imported=row["files_imported"],
        files_skipped=row["files_skipped"],
        files_failed=row["files_failed"],
        records_imported=row["records_imported"],
        records_repaired=row["records_repaired"],
        records_quarantined=row["records_quarantined"],
        records_duplicate=row["records_duplicate"],
        error=row["error"],
        failures=failures,
    )


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
        records=_records(row),
        attempts=row["attempts"],
        run_id=row["run_id"],
        update_time=row["update_time"],
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
