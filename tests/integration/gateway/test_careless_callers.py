"""Callers without a key who hold streams open, and callers who send bytes that are not a request.

Health and reflection need no key, so these are the gateway's cheapest ways to be starved; neither may
stop a caller with a key from being answered.
"""

from __future__ import annotations

import grpc
import pytest

from gamekit.status import error_details
from tests.fixtures.gateway import OpenGatewayChannel, Platform, StartGateway
from tests.fixtures.idle_streams import IdleStreams
from tests.fixtures.scraped import handled_total
from tests.integration.careless_callers import CATALOG, HANDLER_THREADS, list_games


def test_idle_watches_beyond_the_handler_threads_leave_keyed_callers_answered(
    platform: Platform, start_gateway: StartGateway, gateway_channel: OpenGatewayChannel
) -> None:
    # The stream caps raised out of the way: each idle Watch must cost no handler thread at all.
    gateway = start_gateway(
        catalog_target=platform.catalog.target,
        ingestion_target=f"127.0.0.1:{platform.ingestion.port}",
        api_keys_file=platform.keys.path,
        max_health_reflection_streams=40,
        max_health_reflection_streams_per_peer=40,
    )
    with IdleStreams() as streams:
        streams.watch(gateway_channel(gateway.target), HANDLER_THREADS + 4)
        assert (streams.opened, streams.waiting, streams.refused_codes) == (HANDLER_THREADS + 4, 0, [])
        list_games(gateway_channel(gateway.target, platform.keys.reader))


def test_idle_reflection_and_watch_streams_hit_the_caps_not_the_callers(
    platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    gateway = platform.gateway
    before = handled_total(gateway.host.metrics_port, "grpc.health.v1.Health", "Watch", "RESOURCE_EXHAUSTED")
    with IdleStreams() as streams:
        channel = gateway_channel(gateway.target)
        streams.reflect(channel, HANDLER_THREADS + 4).watch(channel, HANDLER_THREADS + 4)
        list_games(gateway_channel(gateway.target, platform.keys.reader))
        settings = gateway.app.settings
        assert (streams.opened, streams.waiting) == (settings.max_health_reflection_streams_per_peer, 0)
        assert set(streams.refused_codes) == {grpc.StatusCode.RESOURCE_EXHAUSTED}
        assert {error_details(error).reason for error in streams.refused} == {"TOO_MANY_STREAMS"}
    after = handled_total(gateway.host.metrics_port, "grpc.health.v1.Health", "Watch", "RESOURCE_EXHAUSTED")
    assert after == before + HANDLER_THREADS + 4


def test_bytes_that_are_not_a_request_are_invalid_argument_and_counted(
    platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    gateway = platform.gateway
    before = handled_total(gateway.host.metrics_port, CATALOG, "GetGame", "INVALID_ARGUMENT")
    raw = gateway_channel(gateway.target, platform.keys.reader).unary_unary(f"/{CATALOG}/GetGame")
    with pytest.raises(grpc.RpcError) as caught:
        raw(b"\xff\xff\xff\xff", timeout=10)
    details = error_details(caught.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (details.reason, details.field_violations) == ("MALFORMED_REQUEST", [])
    assert details.request_id
    assert handled_total(gateway.host.metrics_port, CATALOG, "GetGame", "INVALID_ARGUMENT") == before + 1
    list_games(gateway_channel(gateway.target, platform.keys.reader))
