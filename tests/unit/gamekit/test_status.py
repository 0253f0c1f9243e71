"""The error hierarchy as google.rpc statuses."""

from __future__ import annotations

import grpc
from google.rpc import code_pb2, error_details_pb2

from gamekit.errors import ErrorCode, InvalidArgument, NotFound, ResourceExhausted
from gamekit.status import STATUS_CODES, status_for, to_rpc_status


def _unpack(status, kind):
    for detail in status.details:
        if detail.Is(kind.DESCRIPTOR):
            message = kind()
            detail.Unpack(message)
            return message
    return None


def test_every_error_code_has_a_grpc_code():
    assert set(STATUS_CODES) == set(ErrorCode)
    assert STATUS_CODES[ErrorCode.UNAVAILABLE] is grpc.StatusCode.UNAVAILABLE


def test_invalid_argument_details():
    status = to_rpc_status(InvalidArgument.field("game.platform", "required"), "rid")
    assert status.code == code_pb2.INVALID_ARGUMENT
    bad = _unpack(status, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad.field_violations] == [("game.platform", "required")]
    info = _unpack(status, error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "INVALID_ARGUMENT",
        "games.platform",
        {"request_id": "rid"},
    )


def test_retry_info_only_when_rate_limited():
    limited = to_rpc_status(ResourceExhausted("slow down", retry_after=1.25), "rid")
    assert _unpack(limited, error_details_pb2.RetryInfo).retry_delay.ToTimedelta().total_seconds() == 1.25
    assert _unpack(to_rpc_status(NotFound("no such game"), "rid"), error_details_pb2.RetryInfo) is None


def test_unexpected_exception_becomes_a_bare_internal():
    status = status_for(RuntimeError("password=hunter2 at db.internal"), "rid")
    assert status.code is grpc.StatusCode.INTERNAL
    assert status.details == "internal error (request id rid)"
    assert "hunter2" not in repr(status.trailing_metadata)
    assert ("x-request-id", "rid") in status.trailing_metadata
