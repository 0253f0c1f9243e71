"""The gateway as operators run it: health that follows the catalog, `python -m gateway serve`, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from gamectl.certs import DevPki
from gamectl.net import free_port
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from tests.fixtures.gateway import OpenGatewayChannel, Platform
from tests.fixtures.health import NOT_SERVING, SERVING, health_status, wait_for_health
from tests.fixtures.servers import python_m
from tests.integration.gateway.processes import gateway_env

HEALTH_TIMEOUT = 20.0  # seconds a health change may take


def test_serving_while_the_catalog_answers_whatever_ingestion_does(platform: Platform) -> None:
    port = platform.gateway.host.health_port
    wait_for_health(port, SERVING, timeout=HEALTH_TIMEOUT)
    platform.ingestion.stop(0)
    # Readiness is checked every 0.2 s here: ten checks without ingestion must all keep SERVING.
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        assert health_status(port) == SERVING
        time.sleep(0.1)
    platform.catalog.host.stop(0)
    wait_for_health(port, NOT_SERVING, timeout=HEALTH_TIMEOUT)


def test_python_m_gateway_serves_then_drains_on_sigterm(
    dev_pki: DevPki, platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    port, health_port = free_port(), free_port()
    env = gateway_env(dev_pki, platform, port=str(port), health_port=str(health_port))
    with python_m("gateway", "serve", env=env) as process:
        wait_for_health(health_port, SERVING, timeout=HEALTH_TIMEOUT)
        stub = cpb_grpc.CatalogServiceStub(gateway_channel(f"127.0.0.1:{port}", platform.keys.reader))
        assert list(stub.ListGames(cpb.ListGamesRequest(), timeout=10).games) == []
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_a_bad_setting_stops_the_process_with_one_line(dev_pki: DevPki, platform: Platform) -> None:
    env = gateway_env(dev_pki, platform, identity_scopes="spiffe://games.local/ci=games.everything")
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("invalid setting GATEWAY_IDENTITY_SCOPES")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("processes", ["1", "2"])  # 2: the supervisor checks it before any worker starts
def test_a_missing_keys_file_stops_the_process_with_one_line(
    dev_pki: DevPki, platform: Platform, tmp_path, processes: str
) -> None:
    env = gateway_env(dev_pki, platform, api_keys_file=str(tmp_path / "nowhere.json"), processes=processes)
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert [line for line in result.stderr.splitlines() if line.startswith("cannot start:")]
    assert "Traceback" not in result.stderr
