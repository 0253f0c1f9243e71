"""Callers who hold streams open or flood a server: every other caller is still answered.

Health and reflection need no key (nor, on the backends, more than any platform certificate), so
anyone can hold their streams open; and any caller can send more calls than there are handler threads.
"""

from __future__ import annotations

import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gamekit.serving.options import HostOptions
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from tests.fixtures.eventually import eventually
from tests.fixtures.idle_streams import IdleStreams
from tests.fixtures.scraped import handled_total
from tests.integration.gamekit.conftest import settings_for
from tests.integration.gamekit.servicers import SERVICE, FakeCatalog

HEALTH = "grpc.health.v1.Health"
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
HANDLER_THREADS = 16  # gamekit's handler pool
ROOMY = {"max_health_reflection_streams": 40, "max_health_reflection_streams_per_peer": 40}


def get_game(channel: grpc.Channel, name: str = "games/1") -> catalog_pb2.GetGameResponse:
    return catalog_pb2_grpc.CatalogServiceStub(channel).GetGame(
        catalog_pb2.GetGameRequest(name=name), timeout=10
    )


def test_idle_health_watches_hold_no_handler_thread(start_host, open_channel, dev_pki):
    # Caps out of the way: this is about the threads, not about the caps.
    host = start_host(settings=settings_for(dev_pki, **ROOMY))
    with IdleStreams() as streams:
        streams.watch(open_channel(host.port, "operator"), HANDLER_THREADS + 4)
        assert (streams.opened, streams.waiting, streams.refused_codes) == (HANDLER_THREADS + 4, 0, [])
        assert get_game(open_channel(host.port)).game.name == "games/1"


def test_a_watch_still_follows_readiness_through_the_interceptors(start_host, open_channel):
    ready = threading.Event()
    ready.set()
    host = start_host(readiness=ready.is_set, options=HostOptions(readiness_interval=0.05))
    health = health_pb2_grpc.HealthStub(open_channel(host.port, "operator"))
    watch = health.Watch(health_pb2.HealthCheckRequest(service=SERVICE), timeout=30)
    try:
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        ready.clear()
        assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        watch.cancel()


def test_streams_beyond_the_per_caller_cap_are_refused_and_counted(start_host, open_channel, dev_pki):
    host = start_host(
        settings=settings_for(
            dev_pki, max_health_reflection_streams=3, max_health_reflection_streams_per_peer=2
        )
    )
    before = handled_total(host.metrics_port, HEALTH, "Watch", EXHAUSTED.name)
    with IdleStreams() as streams:
        streams.watch(open_channel(host.port, "operator"), 3)
        streams.reflect(open_channel(host.port, "operator"))
        assert (streams.opened, streams.waiting) == (2, 0)
        assert streams.refused_codes == [EXHAUSTED, EXHAUSTED]
        details = error_details(streams.refused[0])
        assert details.reason == "TOO_MANY_STREAMS"
        assert "one caller" in details.message
        assert details.retry_after is not None
        # Another caller still gets its stream, and business calls are untouched.
        streams.watch(open_channel(host.port, "gateway"))
        assert streams.opened == 3
        assert get_game(open_channel(host.port)).game.name == "games/1"
    assert handled_total(host.metrics_port, HEALTH, "Watch", EXHAUSTED.name) == before + 1


def test_streams_beyond_the_total_cap_are_refused(start_host, open_channel, dev_pki):
    host = start_host(
        settings=settings_for(
            dev_pki, max_health_reflection_streams=2, max_health_reflection_streams_per_peer=1
        )
    )
    with IdleStreams() as streams:
        for identity in ("operator", "gateway", "catalog"):
            streams.watch(open_channel(host.port, identity))
        assert (streams.opened, streams.waiting, streams.refused_codes) == (2, 0, [EXHAUSTED])
        details = error_details(streams.refused[0])
        assert details.reason == "TOO_MANY_STREAMS"
        assert "this server" in details.message


def test_a_closed_stream_gives_its_place_back(start_host, open_channel, dev_pki):
    host = start_host(
        settings=settings_for(
            dev_pki, max_health_reflection_streams=2, max_health_reflection_streams_per_peer=2
        )
    )
    channel = open_channel(host.port, "operator")
    with IdleStreams() as first:
        first.watch(channel).reflect(channel)
        assert first.opened == 2
    # The server learns of the cancellations asynchronously: try until it has.
    opened = []

    def both_open() -> bool:
        with IdleStreams() as again:
            again.watch(channel, 2)
            opened.append(again.opened)
        return opened[-1] == 2

    eventually(
        both_open, timeout=10, interval=0.05, what=lambda: f"two streams open again; {opened[-1]} opened"
    )


def test_calls_beyond_the_concurrency_limit_are_refused_at_once_and_counted(
    start_host, open_channel, dev_pki
):
    servicer = FakeCatalog()
    settings = settings_for(
        dev_pki,
        max_concurrent_rpcs=2,
        max_health_reflection_streams=1,
        max_health_reflection_streams_per_peer=1,
    )
    host = start_host(servicer, settings=settings)
    stub = catalog_pb2_grpc.CatalogServiceStub(open_channel(host.port))
    held = [stub.GetGame.future(catalog_pb2.GetGameRequest(name="games/hold"), timeout=30) for _ in range(2)]
    try:
        for _ in held:
            assert servicer.holding.acquire(timeout=10)
        before = handled_total(host.metrics_port, SERVICE, "GetGame", EXHAUSTED.name)
        with pytest.raises(grpc.RpcError) as caught:
            get_game(open_channel(host.port))
        details = error_details(caught.value)
        assert details.code == EXHAUSTED
        assert details.reason == "SERVER_BUSY"
        assert "2 calls" in details.message
        assert details.request_id
        assert details.retry_after == pytest.approx(0.5)
        assert handled_total(host.metrics_port, SERVICE, "GetGame", EXHAUSTED.name) == before + 1
    finally:
        servicer.let_go.set()
    assert [future.result().game.name for future in held] == ["games/hold", "games/hold"]
    assert get_game(open_channel(host.port)).game.name == "games/1"


def test_the_probe_port_caps_watches_by_address(start_host, dev_pki):
    host = start_host(
        settings=settings_for(
            dev_pki, max_health_reflection_streams=4, max_health_reflection_streams_per_peer=2
        )
    )
    with grpc.insecure_channel(f"127.0.0.1:{host.health_port}") as channel, IdleStreams() as streams:
        streams.watch(channel, 3)
        assert (streams.opened, streams.waiting, streams.refused_codes) == (2, 0, [EXHAUSTED])
        assert error_details(streams.refused[0]).reason == "TOO_MANY_STREAMS"
        check = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert check.status == health_pb2.HealthCheckResponse.SERVING
