"""Bytes that are not the method's request message: the caller's mistake, said as such and counted."""

from __future__ import annotations

import json

import grpc
import pytest

from gamekit.status import error_details
from tests.fixtures.scraped import handled_total
from tests.integration.gamekit.servicers import GET_GAME, SERVICE

# A field tag whose varint never ends: no protobuf message parses from it.
GARBAGE = b"\xff\xff\xff\xff"


def test_garbage_is_invalid_argument_without_field_violations_and_counted(
    start_host, open_channel, json_logs
):
    host = start_host()
    before = handled_total(host.metrics_port, SERVICE, "GetGame", "INVALID_ARGUMENT")
    raw = open_channel(host.port).unary_unary(GET_GAME)  # no serializers: bytes as they are
    with pytest.raises(grpc.RpcError) as caught:
        raw(GARBAGE, timeout=5)
    details = error_details(caught.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.reason == "MALFORMED_REQUEST"
    assert details.field_violations == []
    assert "GetGame" in details.message
    assert details.request_id
    assert handled_total(host.metrics_port, SERVICE, "GetGame", "INVALID_ARGUMENT") == before + 1
    logged = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    access = [line for line in logged if line.get("method") == GET_GAME]
    assert [(line["code"], line["reason"]) for line in access] == [("INVALID_ARGUMENT", "MALFORMED_REQUEST")]


def test_garbage_inside_a_request_stream_is_invalid_argument(start_host, open_channel):
    host = start_host()
    raw = open_channel(host.port, "catalog").stream_unary(f"/{SERVICE}/ImportGames")
    with pytest.raises(grpc.RpcError) as caught:
        raw(iter([GARBAGE]), timeout=5)
    details = error_details(caught.value)
    assert (details.code, details.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MALFORMED_REQUEST")
