"""The one error hierarchy of the platform.

Domain code raises these, never grpc statuses; `gamekit.status` maps them to gRPC codes and
`google.rpc` details at the transport edge. Adapters (SQLAlchemy/psycopg, boto3, redis) wrap their
own exceptions into these with `raise ... from exc`, so nothing above storage sees a driver error.

    GamesError                  base; `code` is transport-neutral, `reason` is a stable ErrorInfo reason
    ├── InvalidArgument         bad input; carries field violations
    ├── NotFound                no such resource
    ├── AlreadyExists           a unique key is taken
    ├── FailedPrecondition      the system is not in a state that allows the call
    ├── Aborted                 a concurrency conflict (stale etag); retry after re-reading
    ├── PermissionDenied        the caller is known but not allowed
    ├── Unauthenticated         the caller is not known
    ├── ResourceExhausted       a limit was hit; carries how long to wait
    ├── DeadlineExceeded        the caller's deadline passed while the work was under way
    └── Unavailable             a dependency does not answer; safe to retry

Anything else that escapes a handler is a bug: the transport turns it into INTERNAL with a request id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ErrorCode(enum.Enum):
    """Transport-neutral error codes; one table in gamekit.status maps them to gRPC codes."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    ABORTED = "ABORTED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field: its path in the request (`game.display_name`) and what is wrong."""

    field: str
    description: str


class GamesError(Exception):
    """Base of every expected error; the message is safe to show to a caller."""

    code: ErrorCode = ErrorCode.INTERNAL
    reason: str = "INTERNAL"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class InvalidArgument(GamesError):
    """The request is malformed; `violations` names each bad field."""

    code = ErrorCode.INVALID_ARGUMENT
    reason = "INVALID_ARGUMENT"

    def __init__(
        self, violations: list[FieldViolation], *, message: str | None = None, reason: str | None = None
    ) -> None:
        fields = ", ".join(v.field for v in violations)
        super().__init__(message or f"invalid request: {fields}", reason=reason)
        self.violations = violations

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        """Shorthand for one bad field."""
        return cls([FieldViolation(field, description)])


class NotFound(GamesError):
    code = ErrorCode.NOT_FOUND
    reason = "NOT_FOUND"


class AlreadyExists(GamesError):
    code = ErrorCode.ALREADY_EXISTS
    reason = "ALREADY_EXISTS"


class FailedPrecondition(GamesError):
    code = ErrorCode.FAILED_PRECONDITION
    reason = "FAILED_PRECONDITION"


class Aborted(GamesError):
    code = ErrorCode.ABORTED
    reason = "ABORTED"


class PermissionDenied(GamesError):
    code = ErrorCode.PERMISSION_DENIED
    reason = "PERMISSION_DENIED"


class Unauthenticated(GamesError):
    code = ErrorCode.UNAUTHENTICATED
    reason = "UNAUTHENTICATED"


class ResourceExhausted(GamesError):
    """A limit was hit; `retry_after` seconds is when trying again may succeed."""

    code = ErrorCode.RESOURCE_EXHAUSTED
    reason = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float, reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after


class DeadlineExceeded(GamesError):
    """The caller's deadline passed first; the work was stopped (a query was cancelled) and undone."""

    code = ErrorCode.DEADLINE_EXCEEDED
    reason = "DEADLINE_EXCEEDED"


class Unavailable(GamesError):
    code = ErrorCode.UNAVAILABLE
    reason = "DEPENDENCY_UNAVAILABLE"
