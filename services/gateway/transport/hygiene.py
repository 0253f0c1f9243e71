"""Backend failures as callers may see them: expected statuses pass, anything else becomes INTERNAL.

A backend status passes through (code, message and its google.rpc details) only when the backend's
gamekit produced it: an expected code carrying the platform's ErrorInfo, whose message the error
hierarchy promises is safe to show. Statuses the gRPC client makes up itself (a refused connection, an
expired deadline) keep their code with a message of ours, since theirs names hosts and ports. INTERNAL,
UNKNOWN, DATA_LOSS, a backend refusing the gateway's identity, and anything unexpected become INTERNAL
with a generic message and the request id; what the backend said goes to the log only.
"""

from __future__ import annotations

import logging

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2  # type: ignore[import-untyped]
from grpc_status import rpc_status

from gamekit.status import (
    DOMAIN,
    GrpcStatus,
    error_info,
    internal_rpc_status,
    status_code,
    to_grpc_status,
)

log = logging.getLogger(__name__)

PASS_THROUGH = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.UNAVAILABLE,
        # A backend's own: its query was cancelled as the caller's deadline (which it was given) passed.
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
)
# Codes a transport reports on its own; the caller may act on the code, never on the text.
TRANSPORT_MESSAGES = {
    grpc.StatusCode.UNAVAILABLE: "the service is unavailable; try again",
    grpc.StatusCode.DEADLINE_EXCEEDED: "deadline exceeded",
    grpc.StatusCode.CANCELLED: "call cancelled",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "a limit was exceeded",
}
# Detail types a caller may read; DebugInfo (stack entries) and anything unknown are dropped.
SAFE_DETAILS = tuple(
    message.DESCRIPTOR
    for message in (
        error_details_pb2.ErrorInfo,
        error_details_pb2.BadRequest,
        error_details_pb2.RetryInfo,
        error_details_pb2.PreconditionFailure,
        error_details_pb2.ResourceInfo,
        error_details_pb2.QuotaFailure,
    )
)


def _platform_status(error: grpc.Call) -> status_pb2.Status | None:
    """The backend's google.rpc.Status when gamekit made it (ErrorInfo in our domain), else None."""
    try:
        rich = rpc_status.from_call(error)
    except ValueError:  # details that contradict the status line: not ours
        return None
    if rich is None:
        return None
    for detail in rich.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            if info.domain == DOMAIN:
                return rich
    return None


def backend_unreachable(error: grpc.RpcError) -> bool:
    """UNAVAILABLE or CANCELLED made up by gRPC itself, not a status the backend's code sent.

    UNAVAILABLE: no connection. CANCELLED: a backend that began shutting down as the call arrived, which
    gRPC's server cancels before any handler runs (seen in the catalog-restart e2e test, once in four
    runs); the gateway never cancels its own backend calls, so nothing else sends it.
    """
    return (
        isinstance(error, grpc.Call)
        and error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
        and _platform_status(error) is None
    )


def _safe(details: list[any_pb2.Any]) -> list[any_pb2.Any]:
    return [d for d in details if any(d.Is(descriptor) for descriptor in SAFE_DETAILS)]


def clean_status(error: grpc.RpcError, request_id: str | None) -> GrpcStatus:
    """The status to send a caller for a failed backend call."""
    code = status_code(error)
    rich = _platform_status(error) if isinstance(error, grpc.Call) else None
    if code in PASS_THROUGH and rich is not None:
        passed = status_pb2.Status(code=rich.code, message=rich.message, details=_safe(list(rich.details)))
        return to_grpc_status(passed, request_id)
    if code in TRANSPORT_MESSAGES and rich is None:
        reason = "BACKEND_" + code.name
        own = status_pb2.Status(code=code.value[0], message=TRANSPORT_MESSAGES[code])
        own.details.add().Pack(error_info(reason, request_id))
        return to_grpc_status(own, request_id)
    backend_says = error.details() if isinstance(error, grpc.Call) else repr(error)
    log.error(
        "backend call failed",
        extra={"fields": {"backend_code": code.name, "backend_message": backend_says}},
    )
    return to_grpc_status(internal_rpc_status(request_id), request_id)
