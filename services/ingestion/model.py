"""Domain values of ingestion: plain dataclasses, no grpc, no SQL, no boto3."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


class RunTrigger(enum.Enum):
    """What started a run; the value is what the ledger stores."""

    SCHEDULE = "schedule"
    ADMIN = "admin"
    EVENT = "event"


class RunState(enum.Enum):
    """Where a run is."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class FileState(enum.Enum):
    """Where one delivered file version is."""

    IMPORTING = "importing"
    IMPORTED = "imported"
    FAILED = "failed"  # for a transient reason: taken again by the next run
    REJECTED = "rejected"  # never taken again, until an operator accepts it


class Outcome(enum.Enum):
    """What a run did with one file."""

    IMPORTED = "imported"
    SKIPPED = "skipped"
    FAILED = "failed"
    REJECTED = "rejected"


class EventOutcome(enum.Enum):
    """What became of one object an S3 event named: the message is deleted unless RETRY."""

    DONE = "done"  # imported, skipped, rejected, gone, or not a delivery
    RETRY = "retry"  # failed for a transient reason: the message comes back
    FOREIGN = "foreign"  # another bucket, or outside the prefix: never imported


@dataclass(frozen=True)
class SourceObject:
    """One delivered object version: its identity in the ledger, and its size."""

    bucket: str
    key: str
    etag: str
    version_id: str = ""
    size: int = 0


@dataclass(frozen=True)
class RecordCounts:
    """What became of the records of one file (or of a whole run)."""

    imported: int = 0
    repaired: int = 0
    quarantined: int = 0
    duplicate: int = 0

    def __add__(self, other: RecordCounts) -> RecordCounts:
        return RecordCounts(
            self.imported + other.imported,
            self.repaired + other.repaired,
            self.quarantined + other.quarantined,
            self.duplicate + other.duplicate,
        )


@dataclass(frozen=True)
class FileCounts:
    """How many files a run imported, skipped, failed and rejected."""

    imported: int = 0
    skipped: int = 0
    failed: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class DriftCount:
    """A descriptive field that arrived in another shape in `records` records of a file."""

    field: str
    shape: str
    action: str  # "converted" (kept, normalised) or "dropped" (left empty)
    records: int


@dataclass(frozen=True)
class Run:
    """One ingestion run as the ledger knows it; `failures`: (key, reason) of failed and rejected files."""

    id: int
    trigger: RunTrigger
    state: RunState
    start_time: datetime
    end_time: datetime | None
    files_imported: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    files_rejected: int = 0
    records_imported: int = 0
    records_repaired: int = 0
    records_quarantined: int = 0
    records_duplicate: int = 0
    error: str = ""
    failures: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """`runs/{id}`."""
        return f"runs/{self.id}"


@dataclass(frozen=True)
class FileEntry:
    """One delivered file version as the ledger knows it."""

    id: int
    source: SourceObject
    state: FileState
    catalog_import: str
    error: str
    records: RecordCounts
    attempts: int
    run_id: int | None
    update_time: datetime
    reject_reason: str = ""
    failures: int = 0
    drift: tuple[DriftCount, ...] = ()
    first_failure_time: datetime | None = None
    accepted_by: str = ""
    accept_time: datetime | None = None

    @property
    def name(self) -> str:
        """`files/{id}`."""
        return f"files/{self.id}"


@dataclass(frozen=True)
class QuarantinedRecord:
    """A record set aside with the reason, as the ledger keeps it."""

    file_id: int
    key: str
    position: int
    raw: str
    reason: str
    create_time: datetime

    @property
    def name(self) -> str:
        """`files/{file}/quarantinedRecords/{position}`."""
        return f"files/{self.file_id}/quarantinedRecords/{self.position}"


@dataclass(frozen=True)
class RepairEntry:
    """One repaired field of one imported record."""

    file_id: int
    position: int
    field: str
    original: str
    repaired: str
    encoding: str


@dataclass(frozen=True)
class FileOutcome:
    """What one run did with one file, and why when it was not imported."""

    source: SourceObject
    outcome: Outcome
    reason: str = ""
    records: RecordCounts = RecordCounts()
    catalog_import: str = ""
    file_id: int | None = None


@dataclass(frozen=True)
class RunSummary:
    """A run as ended, with what it did to each file it saw."""

    run: Run
    files: tuple[FileOutcome, ...] = ()

    @property
    def succeeded(self) -> bool:
        """True when every file was imported or skipped."""
        return self.run.state is RunState.SUCCEEDED


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and the token of the next (empty on the last page)."""

    items: list[T] = field(default_factory=list)
    next_page_token: str = ""


MAX_REASON = 2000


def clip(reason: str) -> str:
    """A reason short enough to store, log and send (a parser may quote a whole 1 MB token)."""
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


@dataclass(frozen=True)
class RetryPolicy:
    """When failed runs reject a file: `failures` of them (stopped runs count) over `window_seconds`."""

    failures: int = 3
    window_seconds: float = 6 * 3600


class FileFailed(Exception):
    """A file failed for a reason that may pass (S3 or the catalog away); `reason` is safe to show."""

    def __init__(self, reason: str, records: RecordCounts | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.records = records or RecordCounts()


class FileUnusable(FileFailed):
    """A file that retrying cannot fix: it is rejected. `cause` is a metric label (see metrics.py)."""

    def __init__(
        self,
        reason: str,
        records: RecordCounts | None = None,
        drift: tuple[DriftCount, ...] = (),
        *,
        cause: str = "unreadable",
    ) -> None:
        super().__init__(reason, records)
        self.drift = drift
        self.cause = cause
