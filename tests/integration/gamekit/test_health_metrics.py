"""Health follows the readiness check; metrics count calls; both answer on their own ports."""

from __future__ import annotations

import itertools
import threading
import urllib.request

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gamekit.serving.options import HostOptions
from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from tests.fixtures.eventually import eventually
from tests.integration.gamekit.conftest import settings_for
from tests.integration.gamekit.servicers import SERVICE

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _wait_status(health, service, want, timeout=5.0):
    """Until the health of `service` is `want`; AssertionError naming the status it still has."""
    seen = []

    def turned():
        seen.append(health.Check(health_pb2.HealthCheckRequest(service=service), timeout=2).status)
        return seen[-1] == want

    eventually(
        turned,
        timeout=timeout,
        interval=0.02,
        what=lambda: f"{service or 'overall'} health {_name(want)}; still {_name(seen[-1])}",
    )


def _name(status):
    return health_pb2.HealthCheckResponse.ServingStatus.Name(status)


def test_readiness_flip_sets_both_health_servers(start_host, open_channel):
    ready = threading.Event()
    ready.set()
    host = start_host(readiness=ready.is_set, options=HostOptions(readiness_interval=0.05))
    secure = health_pb2_grpc.HealthStub(open_channel(host.port, "operator"))
    with grpc.insecure_channel(f"127.0.0.1:{host.health_port}") as channel:
        plain = health_pb2_grpc.HealthStub(channel)
        _wait_status(plain, SERVICE, SERVING)
        ready.clear()
        for health in (plain, secure):
            for service in ("", SERVICE):
                _wait_status(health, service, NOT_SERVING)
        ready.set()
        for health in (plain, secure):
            _wait_status(health, SERVICE, SERVING)


def test_liveness_stays_serving_while_readiness_fails(start_host):
    ready = threading.Event()
    host = start_host(readiness=ready.is_set, options=HostOptions(readiness_interval=0.05))
    with grpc.insecure_channel(f"127.0.0.1:{host.health_port}") as channel:
        plain = health_pb2_grpc.HealthStub(channel)
        _wait_status(plain, "", NOT_SERVING)
        liveness = plain.Check(health_pb2.HealthCheckRequest(service="liveness"), timeout=2)
        assert liveness.status == SERVING


def test_failing_readiness_check_means_not_serving(start_host):
    def broken() -> bool:
        raise ConnectionError("database down")

    host = start_host(readiness=broken, options=HostOptions(readiness_interval=0.05))
    with grpc.insecure_channel(f"127.0.0.1:{host.health_port}") as channel:
        status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
    assert status.status == NOT_SERVING


def test_metrics_endpoint_counts_calls(start_host, open_channel):
    host = start_host()
    stub = catalog_pb2_grpc.CatalogServiceStub(open_channel(host.port))
    stub.GetGame(catalog_pb2.GetGameRequest(name="games/1"), timeout=5)
    with urllib.request.urlopen(f"http://127.0.0.1:{host.metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    assert (
        'grpc_server_handled_total{grpc_code="OK",grpc_method="GetGame",'
        'grpc_service="games.catalog.v1.CatalogService"}'
    ) in text
    assert "grpc_server_handling_seconds_bucket" in text
    assert "grpc_server_in_flight" in text


def test_watches_ending_while_the_status_changes_never_stall_the_server(start_host, open_channel, dev_pki):
    # Each status change is sent to every watcher while watchers leave: grpcio's own servicer
    # deadlocks the server's polling thread here (grpc/grpc#43403), and then nothing is answered.
    flips = itertools.cycle([True, False])
    roomy = {"max_health_reflection_streams": 40, "max_health_reflection_streams_per_peer": 40}
    host = start_host(
        readiness=lambda: next(flips),
        options=HostOptions(readiness_interval=0.001),
        settings=settings_for(dev_pki, **roomy),
    )
    with grpc.insecure_channel(f"127.0.0.1:{host.health_port}") as plain_channel:
        stubs = [
            health_pb2_grpc.HealthStub(open_channel(host.port, "operator")),
            health_pb2_grpc.HealthStub(plain_channel),
        ]
        request = health_pb2.HealthCheckRequest(service=SERVICE)
        for _ in range(20):
            for stub in stubs:
                watches = [stub.Watch(request, timeout=10) for _ in range(30)]
                for watch in watches:
                    next(watch)
                for watch in watches:
                    watch.cancel()
        for stub in stubs:
            assert stub.Check(health_pb2.HealthCheckRequest(service="liveness"), timeout=10).status == SERVING


def test_stopping_ends_open_watches_after_not_serving(start_host, open_channel):
    # An idle watcher must not hold the drain, and with it the port, for the whole grace period.
    host = start_host()
    health = health_pb2_grpc.HealthStub(open_channel(host.port, "operator"))
    watch = health.Watch(health_pb2.HealthCheckRequest(), timeout=30)
    assert next(watch).status == SERVING
    stopping = threading.Thread(target=host.stop, args=(20,))
    stopping.start()
    assert [answer.status for answer in watch] == [NOT_SERVING]
    stopping.join(15)
    assert host.wait(0)
