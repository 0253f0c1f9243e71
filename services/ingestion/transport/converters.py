"""Protos in, domain values out, and back: the only place that knows both shapes."""

from __future__ import annotations

from gamekit.resource_names import parse_resource_id
from gamekit.timestamps import timestamp
from games.ingestion.v1 import ingestion_pb2 as pb
from ingestion.model import DriftCount, FileEntry, FileState, QuarantinedRecord, Run, RunState, RunTrigger

_TRIGGERS = {
    RunTrigger.SCHEDULE: pb.RUN_TRIGGER_SCHEDULE,
    RunTrigger.ADMIN: pb.RUN_TRIGGER_ADMIN,
    RunTrigger.EVENT: pb.RUN_TRIGGER_EVENT,
}
_RUN_STATES = {
    RunState.RUNNING: pb.RUN_STATE_RUNNING,
    RunState.SUCCEEDED: pb.RUN_STATE_SUCCEEDED,
    RunState.FAILED: pb.RUN_STATE_FAILED,
}
_FILE_STATES = {
    FileState.IMPORTING: pb.FILE_STATE_IMPORTING,
    FileState.IMPORTED: pb.FILE_STATE_IMPORTED,
    FileState.FAILED: pb.FILE_STATE_FAILED,
    FileState.REJECTED: pb.FILE_STATE_REJECTED,
}
_DRIFT_ACTIONS = {"converted": pb.DRIFT_ACTION_CONVERTED, "dropped": pb.DRIFT_ACTION_DROPPED}


def run_to_proto(run: Run) -> pb.Run:
    """A run as the contract shows it."""
    message = pb.Run(
        name=run.name,
        trigger=_TRIGGERS[run.trigger],
        state=_RUN_STATES[run.state],
        start_time=timestamp(run.start_time),
        files_imported=run.files_imported,
        files_skipped=run.files_skipped,
        files_failed=run.files_failed,
        files_rejected=run.files_rejected,
        records_imported=run.records_imported,
        records_repaired=run.records_repaired,
        records_quarantined=run.records_quarantined,
        records_duplicate=run.records_duplicate,
    )
    if run.end_time is not None:
        message.end_time.CopyFrom(timestamp(run.end_time))
    return message


def file_to_proto(entry: FileEntry) -> pb.File:
    """A ledger file as the contract shows it."""
    message = pb.File(
        name=entry.name,
        bucket=entry.source.bucket,
        key=entry.source.key,
        etag=entry.source.etag,
        version_id=entry.source.version_id,
        size_bytes=entry.source.size,
        state=_FILE_STATES[entry.state],
        catalog_import=entry.catalog_import,
        error=entry.error,
        records_imported=entry.records.imported,
        records_repaired=entry.records.repaired,
        records_quarantined=entry.records.quarantined,
        run=f"runs/{entry.run_id}" if entry.run_id else "",
        update_time=timestamp(entry.update_time),
        reject_reason=entry.reject_reason,
        failures=entry.failures,
        drift=[drift_to_proto(d) for d in entry.drift],
        accepted_by=entry.accepted_by,
    )
    if entry.accept_time is not None:
        message.accept_time.CopyFrom(timestamp(entry.accept_time))
    return message


def drift_to_proto(drift: DriftCount) -> pb.FieldDrift:
    """One field's drift in a file as the contract shows it."""
    return pb.FieldDrift(
        field=drift.field,
        shape=drift.shape,
        action=_DRIFT_ACTIONS.get(drift.action, pb.DRIFT_ACTION_UNSPECIFIED),
        record_count=drift.records,
    )


def quarantined_to_proto(record: QuarantinedRecord) -> pb.QuarantinedRecord:
    """A quarantined record as the contract shows it."""
    return pb.QuarantinedRecord(
        name=record.name,
        file=f"files/{record.file_id}",
        key=record.key,
        position=record.position,
        raw_record=record.raw,
        reason=record.reason,
        create_time=timestamp(record.create_time),
    )


def wire_size(item: Run | FileEntry | QuarantinedRecord) -> int:
    """The bytes a listed run, file or record takes in a response: what a page's byte budget counts."""
    if isinstance(item, Run):
        return run_to_proto(item).ByteSize()
    if isinstance(item, FileEntry):
        return file_to_proto(item).ByteSize()
    return quarantined_to_proto(item).ByteSize()


def file_id(name: str) -> int:
    """The id of a `files/{id}` name in a request's `name` field."""
    return parse_resource_id(name, collection="files", field="name")


def file_filter(name: str) -> int | None:
    """The file a ListQuarantinedRecords request narrows to: '' for every file."""
    return parse_resource_id(name, collection="files", field="file") if name else None
