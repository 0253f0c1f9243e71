"""Errors reach clients as statuses with google.rpc details, and internals never leave the server."""

from __future__ import annotations

import json
import queue

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gamekit.errors import FieldViolation
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from tests.fixtures.eventually import eventually
from tests.integration.gamekit.servicers import SECRET

LEAKS = ("SELECT", "/etc/passwd", "db.internal", "Traceback", "RuntimeError")


def _fail(call, request):
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=5)
    return caught.value


@pytest.fixture
def stub(start_host, open_channel):
    return catalog_pb2_grpc.CatalogServiceStub(open_channel(start_host().port))


def test_invalid_argument_carries_field_violations(stub):
    details = error_details(_fail(stub.GetGame, catalog_pb2.GetGameRequest(name="games/bad")))
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.field_violations == [FieldViolation("name", "must be games/{id}")]
    assert details.reason == "INVALID_ARGUMENT"
    assert details.domain == "games.platform"
    assert details.request_id
    assert details.metadata["request_id"] == details.request_id


def test_resource_exhausted_carries_retry_info(stub):
    details = error_details(_fail(stub.GetGame, catalog_pb2.GetGameRequest(name="games/limited")))
    assert details.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert details.reason == "RATE_LIMITED"
    assert details.retry_after == pytest.approx(2.5)


def test_unexpected_error_is_internal_without_internals(stub, json_logs):
    error = _fail(stub.GetGame, catalog_pb2.GetGameRequest(name="games/boom"))
    details = error_details(error)
    assert details.code == grpc.StatusCode.INTERNAL
    assert details.message == f"internal error (request id {details.request_id})"
    shown = details.message + repr(error.trailing_metadata()) + repr(error.debug_error_string())
    for leak in LEAKS:
        assert leak not in shown
    logged = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    failure = next(line for line in logged if line["message"].startswith("unhandled error"))
    assert SECRET in failure["exception"]
    assert failure["request_id"] == details.request_id


def test_error_while_streaming_responses_is_mapped(stub):
    responses = stub.WatchRevision(catalog_pb2.WatchRevisionRequest(), timeout=5)
    received = [next(responses).revision, next(responses).revision]
    assert received == [1, 2]
    with pytest.raises(grpc.RpcError) as caught:
        next(responses)
    details = error_details(caught.value)
    assert details.code == grpc.StatusCode.INTERNAL
    assert SECRET not in details.message


def test_client_streaming_call_and_its_errors(stub):
    header = catalog_pb2.ImportGamesRequest(header=catalog_pb2.ImportHeader())
    batch = catalog_pb2.ImportGamesRequest(batch=catalog_pb2.ImportBatch(games=[catalog_pb2.Game()] * 3))
    response = stub.ImportGames(iter([header, batch, batch]), timeout=5)
    assert response.import_record.received_count == 6
    with pytest.raises(grpc.RpcError) as caught:
        stub.ImportGames(iter([batch]), timeout=5)
    assert error_details(caught.value).field_violations == [
        FieldViolation("header", "the first message must be a header")
    ]


def _logged_when(json_logs, found, what, timeout=5.0):
    """The log lines, once one satisfies `found`, `what` (the server logs from its own threads)."""

    def lines():
        logged = [json.loads(line) for line in json_logs.getvalue().splitlines()]
        return logged if any(found(line) for line in logged) else None

    return eventually(lines, timeout=timeout, interval=0.05, what=what)


def test_caller_leaving_a_stream_is_not_an_error(start_host, open_channel, json_logs):
    # grpcurl and k6 close their reflection stream once they have the descriptors they need.
    method = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
    stub = reflection_pb2_grpc.ServerReflectionStub(open_channel(start_host().port, "operator"))
    requests: queue.Queue[reflection_pb2.ServerReflectionRequest | None] = queue.Queue()
    requests.put(reflection_pb2.ServerReflectionRequest(list_services=""))
    responses = stub.ServerReflectionInfo(iter(requests.get, None), timeout=5)
    assert next(responses).list_services_response.service
    responses.cancel()
    requests.put(None)  # ends the request iterator, so gRPC's thread reading it is not left waiting
    logged = _logged_when(
        json_logs,
        lambda line: line.get("method") == method and "code" in line,
        "the reflection stream's access line logged",
    )
    # CANCELLED, or OK when the servicer saw the requests end before the cancellation: a race in gRPC.
    assert [line["code"] for line in logged if line.get("method") == method] in (["CANCELLED"], ["OK"])
    assert not [line for line in logged if line["level"] == "ERROR"]
