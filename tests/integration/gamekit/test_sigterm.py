"""SIGTERM on a real service process: NOT_SERVING, in-flight calls finish, exit 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from tests.fixtures.eventually import eventually

ROOT = Path(__file__).resolve().parents[3]


def _in_flight(metrics_port) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        lines = response.read().decode().splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("grpc_server_in_flight{"))


@pytest.fixture
def child(dev_pki):
    cert = dev_pki.certs["catalog"]
    env = {
        **os.environ,
        "FAKE_HOST": "127.0.0.1",
        "FAKE_PORT": "0",
        "FAKE_HEALTH_PORT": "0",
        "FAKE_METRICS_PORT": "0",
        "FAKE_TLS_CERT_FILE": str(cert.cert_file),
        "FAKE_TLS_KEY_FILE": str(cert.key_file),
        "FAKE_TLS_CA_FILE": str(dev_pki.ca_file),
        "FAKE_GRACE_PERIOD_SECONDS": "10",
        "OTEL_SDK_DISABLED": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.gamekit.serve_child"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            record = json.loads(line)
            if record["message"] == "serving":
                break
        else:
            pytest.fail("the service never reported serving")
        yield process, record
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_sigterm_drains_in_flight_calls_and_exits_zero(child, open_channel):
    process, ports = child
    stub = catalog_pb2_grpc.CatalogServiceStub(open_channel(ports["port"]))
    slow = stub.GetGame.future(catalog_pb2.GetGameRequest(name="games/slow-1.5"), timeout=10)
    eventually(
        lambda: _in_flight(ports["metrics_port"]) >= 1,
        timeout=5,
        interval=0.02,
        what="the slow call in flight",
    )

    process.send_signal(signal.SIGTERM)
    seen = []
    with grpc.insecure_channel(f"127.0.0.1:{ports['health_port']}") as channel:
        health = health_pb2_grpc.HealthStub(channel)

        def turned_or_ended() -> bool:
            seen.append(health.Check(health_pb2.HealthCheckRequest(), timeout=2).status)
            return seen[-1] == health_pb2.HealthCheckResponse.NOT_SERVING or slow.done()

        # The slow call ends within its 10 s deadline, so this waits no longer than that.
        eventually(turned_or_ended, timeout=10, interval=0, what="NOT_SERVING or the slow call's end")
    assert seen[-1] == health_pb2.HealthCheckResponse.NOT_SERVING
    assert not slow.done()  # health turned before the in-flight call ended

    assert slow.result().game.name == "games/slow-1.5"
    assert process.wait(timeout=15) == 0
