"""GATEWAY_PROCESSES > 1: one pod's gateway as several processes on one port (gamekit.serving.workers).

What a platform team relies on: callers' connections spread over the processes, the pod's one metrics
port shows every process's series (labelled `worker`), a process that dies is started again while the
others answer, SIGTERM drains them all, and a port another server holds stops the pod with one line.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import psutil
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from gamectl.certs import DevPki
from gamectl.net import free_port
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from tests.fixtures.eventually import eventually
from tests.fixtures.gateway import OpenGatewayChannel, Platform
from tests.fixtures.health import SERVING, wait_for_health
from tests.fixtures.servers import python_m
from tests.integration.gateway.processes import gateway_env

HEALTH_TIMEOUT = 30.0
CONNECTIONS = 24  # new connections; all on one of two processes by chance: 2 in 2^24


class Pod:
    """A `python -m gateway serve` with GATEWAY_PROCESSES=2, its ports, and its processes."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, health_port: int, metrics_port: int):
        self.process, self.port, self.health_port, self.metrics_port = (
            process,
            port,
            health_port,
            metrics_port,
        )

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def metrics(self) -> dict[tuple[str, str], float]:
        """grpc_server_handled_total of ListGames (OK), by worker, from the pod's metrics port."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.metrics_port}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        found: dict[tuple[str, str], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "workers_restarted_total":
                    found[("restarted", "")] = sample.value
                if (
                    sample.name == "grpc_server_handled_total"
                    and sample.labels.get("grpc_method") == "ListGames"
                ):
                    found[("handled", sample.labels["worker"])] = sample.value
                if sample.name == "process_start_time_seconds":
                    found[("serving", sample.labels["worker"])] = sample.value
        return found

    def serving_workers(self) -> set[str]:
        """The workers whose metrics the pod's port shows: those that bound the ports and serve."""
        return {worker for kind, worker in self.metrics() if kind == "serving"}


@pytest.fixture
def pod(dev_pki: DevPki, platform: Platform) -> Iterator[Pod]:
    port, health_port, metrics_port = free_port(), free_port(), free_port()
    env = gateway_env(
        dev_pki,
        platform,
        processes="2",
        port=str(port),
        health_port=str(health_port),
        metrics_port=str(metrics_port),
    )
    try:
        with python_m("gateway", "serve", env=env) as process:
            running = Pod(process, port, health_port, metrics_port)
            wait_for_health(health_port, SERVING, timeout=HEALTH_TIMEOUT)
            # One worker answering health is not both listening: connections made before the second
            # binds would all go to the first.
            eventually(
                lambda: running.serving_workers() == {"0", "1"},
                timeout=HEALTH_TIMEOUT,
                what="both workers serving",
            )
            yield running
    finally:
        for worker in psutil.Process().children(recursive=True):
            if worker.cmdline()[-2:] == ["gateway", "worker"]:
                worker.kill()


def list_games_on_new_connections(pod: Pod, platform: Platform, open_channel: OpenGatewayChannel) -> None:
    for _ in range(CONNECTIONS):
        # A channel of its own per call: a new TCP connection, for the kernel to hand to a process.
        channel = open_channel(
            f"127.0.0.1:{pod.port}", platform.keys.reader, options=[("grpc.use_local_subchannel_pool", 1)]
        )
        assert (
            list(cpb_grpc.CatalogServiceStub(channel).ListGames(cpb.ListGamesRequest(), timeout=10).games)
            == []
        )
        channel.close()


def test_connections_spread_over_the_processes_and_one_port_shows_them_all(
    pod: Pod, platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    assert len(pod.workers()) == 2
    list_games_on_new_connections(pod, platform, gateway_channel)
    eventually(
        lambda: len([k for k in pod.metrics() if k[0] == "handled"]) == 2,
        timeout=HEALTH_TIMEOUT,
        what="both processes' calls on the pod's metrics port",
    )
    handled = {worker: value for (kind, worker), value in pod.metrics().items() if kind == "handled"}
    assert sorted(handled) == ["0", "1"]
    assert all(value > 0 for value in handled.values())
    assert sum(handled.values()) == CONNECTIONS


def test_a_process_that_dies_is_started_again_while_the_other_answers(
    pod: Pod, platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    victim = pod.workers()[0]
    victim.kill()
    victim.wait(10)
    # The survivor takes every new connection meanwhile.
    list_games_on_new_connections(pod, platform, gateway_channel)
    eventually(
        lambda: len(pod.workers()) == 2 and pod.metrics().get(("restarted", "")) == 1.0,
        timeout=HEALTH_TIMEOUT,
        what="the dead process started again and counted",
    )
    assert victim.pid not in [w.pid for w in pod.workers()]
    wait_for_health(pod.health_port, SERVING, timeout=HEALTH_TIMEOUT)
    list_games_on_new_connections(pod, platform, gateway_channel)


def test_sigterm_drains_every_process_and_exits_zero(pod: Pod) -> None:
    workers = pod.workers()
    pod.process.send_signal(signal.SIGTERM)
    assert pod.process.wait(timeout=60) == 0
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]


def test_a_port_another_server_holds_stops_the_pod_with_one_line(dev_pki: DevPki, platform: Platform) -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        env = gateway_env(dev_pki, platform, processes="2", port=str(other.getsockname()[1]))
        result = subprocess.run(
            [sys.executable, "-m", "gateway", "serve"], env=env, capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line.startswith("cannot start:")]
    assert "Traceback" not in result.stderr
