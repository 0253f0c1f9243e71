"""Client-side pieces that need no server: the retry service config and deadline/request-id propagation."""

from __future__ import annotations

import json

import pytest

from gamekit.call_context import call_scope, time_remaining
from gamekit.clients.call_details import CallDetails
from gamekit.clients.channels import PropagatingInterceptor, service_config


def test_service_config_retries_unavailable_on_named_methods():
    config = json.loads(service_config(["/games.catalog.v1.CatalogService/GetGame"]))
    (method,) = config["methodConfig"]
    assert method["name"] == [{"service": "games.catalog.v1.CatalogService", "method": "GetGame"}]
    policy = method["retryPolicy"]
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert 4 <= policy["maxAttempts"] <= 5
    assert (policy["initialBackoff"], policy["maxBackoff"], policy["backoffMultiplier"]) == (
        "0.1s",
        "2.0s",
        2.0,
    )


def test_service_config_without_methods_and_bad_names():
    assert json.loads(service_config([])) == {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [],
    }
    with pytest.raises(ValueError, match="full method"):
        service_config(["GetGame"])


def _details(timeout=None, metadata=None):
    return CallDetails("/s/M", timeout, metadata, None, None, None)


def test_interceptor_shortens_timeout_and_forwards_request_id():
    seen = []
    interceptor = PropagatingInterceptor()
    with call_scope("req-9", remaining=1.0):
        interceptor.intercept_unary_unary(
            lambda details, request: seen.append(details), _details(timeout=30), None
        )
        interceptor.intercept_unary_stream(lambda details, request: seen.append(details), _details(), None)
    assert 0 < seen[0].timeout <= 1.0
    assert 0 < seen[1].timeout <= 1.0
    assert ("x-request-id", "req-9") in seen[0].metadata


def test_interceptor_keeps_caller_values_outside_a_call():
    seen = []
    interceptor = PropagatingInterceptor()
    metadata = [("x-request-id", "mine")]
    interceptor.intercept_stream_unary(
        lambda d, r: seen.append(d), _details(timeout=3, metadata=metadata), None
    )
    assert seen[0].timeout == 3
    assert seen[0].metadata == metadata
    assert time_remaining() is None
