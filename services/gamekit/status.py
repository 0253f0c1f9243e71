"""From the error hierarchy to gRPC statuses with `google.rpc` details, and back for clients.

Servers send `ErrorInfo` (stable reason, the request id) on every error, `BadRequest` for invalid
input and `RetryInfo` when rate limited. Anything outside the hierarchy is a bug: the caller gets
INTERNAL with only a request id, and the details stay in the server's log.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status

from gamekit.call_context import REQUEST_ID_HEADER
from gamekit.errors import (
    ErrorCode,
    FieldViolation,
    GamesError,
    InvalidArgument,
    ResourceExhausted,
)

DOMAIN = "games.platform"

STATUS_CODES: Mapping[ErrorCode, grpc.StatusCode] = {
    ErrorCode.INVALID_ARGUMENT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorCode.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorCode.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    ErrorCode.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorCode.ABORTED: grpc.StatusCode.ABORTED,
    ErrorCode.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
    ErrorCode.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorCode.RESOURCE_EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorCode.DEADLINE_EXCEEDED: grpc.StatusCode.DEADLINE_EXCEEDED,
    ErrorCode.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorCode.INTERNAL: grpc.StatusCode.INTERNAL,
}


@dataclass(frozen=True)
class GrpcStatus(grpc.Status):
    """A status for `ServicerContext.abort_with_status`: code, message, trailing metadata."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def error_info(reason: str, request_id: str | None) -> error_details_pb2.ErrorInfo:
    """ErrorInfo in the platform's domain, carrying the request id."""
    metadata = {"request_id": request_id} if request_id else {}
    return error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata)


def to_rpc_status(error: GamesError, request_id: str | None) -> status_pb2.Status:
    """The google.rpc.Status for an expected error, with its details."""
    code = STATUS_CODES[error.code]
    details = [_pack(error_info(error.reason, request_id))]
    if isinstance(error, InvalidArgument):
        violations = [
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations
        ]
        details.append(_pack(error_details_pb2.BadRequest(field_violations=violations)))
    if isinstance(error, ResourceExhausted):
        delay = duration_pb2.Duration()
        delay.FromTimedelta(datetime.timedelta(seconds=max(0.0, error.retry_after)))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=code.value[0], message=error.message, details=details)


def internal_rpc_status(request_id: str | None) -> status_pb2.Status:
    """INTERNAL for an unexpected failure: nothing but a request id to quote to the operators."""
    return status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal error (request id {request_id})",
        details=[_pack(error_info("INTERNAL", request_id))],
    )


def to_grpc_status(status: status_pb2.Status, request_id: str | None) -> GrpcStatus:
    """A grpc.Status carrying the rich details and the request id in its trailing metadata."""
    converted = rpc_status.to_status(status)
    metadata = tuple(converted.trailing_metadata)
    if request_id:
        metadata += ((REQUEST_ID_HEADER, request_id),)
    return GrpcStatus(code=converted.code, details=converted.details, trailing_metadata=metadata)


def status_for(error: BaseException, request_id: str | None) -> GrpcStatus:
    """The status a server sends for any exception escaping a handler."""
    rpc = (
        to_rpc_status(error, request_id) if isinstance(error, GamesError) else internal_rpc_status(request_id)
    )
    return to_grpc_status(rpc, request_id)


@dataclass(frozen=True)
class ErrorDetails:
    """What a client can learn from a failed call."""

    code: grpc.StatusCode
    message: str
    request_id: str | None = None
    reason: str | None = None
    domain: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    field_violations: list[FieldViolation] = field(default_factory=list)
    retry_after: float | None = None


def status_code(error: grpc.RpcError) -> grpc.StatusCode:
    """The code a failed call ended with; UNKNOWN for an RpcError that carries no status."""
    return error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN


def error_details(error: grpc.RpcError) -> ErrorDetails:
    """Decode the status, google.rpc details and request id of a failed call."""
    if not isinstance(error, grpc.Call):
        raise TypeError(f"{type(error).__name__} carries no status")
    code, message = error.code(), error.details() or ""
    trailing = error.trailing_metadata() or ()
    request_id = next((str(v) for k, v in trailing if k == REQUEST_ID_HEADER), None)
    result = ErrorDetails(code=code, message=message, request_id=request_id)
    rich = rpc_status.from_call(error)
    if rich is None:
        return result
    info = error_details_pb2.ErrorInfo()
    retry: error_details_pb2.RetryInfo | None = None
    violations: list[FieldViolation] = []
    for detail in rich.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations += [FieldViolation(v.field, v.description) for v in bad.field_violations]
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
    return ErrorDetails(
        code=code,
        message=message,
        request_id=request_id or info.metadata.get("request_id"),
        reason=info.reason or None,
        domain=info.domain or None,
        metadata=dict(info.metadata),
        field_violations=violations,
        retry_after=None if retry is None else retry.retry_delay.ToTimedelta().total_seconds(),
    )
