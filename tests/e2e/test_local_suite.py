"""`gamectl up`, as `make up` runs it: a fresh root comes up, answers, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gamekit.client import secure_channel
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc


@pytest.fixture
def fresh_root() -> Iterator[Path]:
    """An empty folder standing for a fresh clone (outside pytest's 0700 tmp tree, for PostgreSQL)."""
    root = Path(tempfile.mkdtemp(prefix="games-suite-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def wait_for_file(path: Path, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return
        assert process.poll() is None, f"gamectl up exited early with {process.returncode}"
        time.sleep(0.2)
    raise AssertionError(f"{path} was not written within {timeout:.0f}s")


def sample_games_seen_by_the_gateway(root: Path, catalog: str, timeout: float = 90.0) -> set[str]:
    """Names the catalog returns for `pokemon`, asked with the gateway's dev certificate, once any appear."""
    certs = root / ".local" / "certs"
    channel = secure_channel(
        catalog, ca_file=certs / "ca.pem", cert_file=certs / "gateway.pem", key_file=certs / "gateway.key"
    )
    deadline = time.monotonic() + timeout
    with channel:
        stub = pb_grpc.CatalogServiceStub(channel)
        while time.monotonic() < deadline:
            found = {g.display_name for g in stub.SearchGames(pb.SearchGamesRequest(query="pokemon")).games}
            if found:
                return found
            time.sleep(0.5)
    raise AssertionError("the sample deliveries never reached the catalog")


def test_up_serves_the_catalog_and_stops_on_sigterm(fresh_root: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CATALOG_", "INGESTION_", "AWS_", "OTEL_"))
    }
    for service in ("CATALOG", "INGESTION"):
        env.update({f"{service}_PORT": "0", f"{service}_HEALTH_PORT": "0", f"{service}_METRICS_PORT": "0"})
    process = subprocess.Popen(
        [sys.executable, "-m", "gamectl", "--root", str(fresh_root), "up"], env=env, stdout=subprocess.PIPE
    )
    try:
        suite_file = fresh_root / ".local" / "suite.json"
        wait_for_file(suite_file, process)
        suite = json.loads(suite_file.read_text())
        assert {
            "gateway",
            "catalog",
            "ingestion",
            "ca",
            "client_cert",
            "client_key",
            "api_keys",
        } <= suite.keys()
        assert set(suite["api_keys"]) == {"admin", "reader"}
        for key in ("ca", "client_cert", "client_key"):
            assert not Path(suite[key]).is_absolute()
            assert (fresh_root / suite[key]).is_file()

        channel = secure_channel(
            suite["catalog"],
            ca_file=fresh_root / suite["ca"],
            cert_file=fresh_root / suite["client_cert"],
            key_file=fresh_root / suite["client_key"],
        )
        with channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.RpcError) as denied:
                pb_grpc.CatalogServiceStub(channel).ListGames(pb.ListGamesRequest(), timeout=5)
            assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED, (
                "the operator may not call the catalog"
            )

        assert "Pokémon GO" in sample_games_seen_by_the_gateway(fresh_root, suite["catalog"])

        grpcurl = Path(sys.executable).parent / "grpcurl"
        tls = ["-cacert", suite["ca"], "-cert", suite["client_cert"], "-key", suite["client_key"]]
        answer = subprocess.run(
            [str(grpcurl), *tls, suite["catalog"], "grpc.health.v1.Health/Check"],
            cwd=fresh_root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert '"status": "SERVING"' in answer.stdout, answer.stderr

        # The lines `make up` prints: grpcurl through the gateway with the reader key, and gamectl.
        bearer = ["-H", f"authorization: Bearer {suite['api_keys']['reader']}", "-d", '{"query": "pokemon"}']
        search = "games.catalog.v1.CatalogService/SearchGames"
        answer = subprocess.run(
            [str(grpcurl), *tls, *bearer, suite["gateway"], search],
            cwd=fresh_root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert "Pokémon GO" in answer.stdout, answer.stderr
        listed = subprocess.run(
            [sys.executable, "-m", "gamectl", "games", "search", "pokemon", "--suite", ".local/suite.json"],
            cwd=fresh_root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert "Pokémon GO" in listed.stdout, listed.stderr

        process.send_signal(signal.SIGTERM)
        printed, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        assert "grpcurl" in printed.decode(), "make up prints a grpcurl line to try"
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
