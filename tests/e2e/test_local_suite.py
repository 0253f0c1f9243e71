"""`gamectl up`, as `make up` runs it: a fresh root comes up, answers, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gamekit.clients.channels import secure_channel
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from tests.fixtures.eventually import eventually


@pytest.fixture
def fresh_root() -> Iterator[Path]:
    """An empty folder standing for a fresh clone (outside pytest's 0700 tmp tree, for PostgreSQL)."""
    root = Path(tempfile.mkdtemp(prefix="games-suite-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def wait_for_file(path: Path, process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    """Until `gamectl up` has written `path`; fails at once if it exits first."""

    def written() -> bool:
        if path.exists():
            return True
        assert process.poll() is None, f"gamectl up exited early with {process.returncode}"
        return False

    eventually(written, timeout=timeout, interval=0.2, what=f"{path} written")


def sample_games_seen_by_the_gateway(root: Path, catalog: str, timeout: float = 90.0) -> set[str]:
    """Names the catalog returns for `pokemon`, asked with the gateway's dev certificate, once any appear."""
    certs = root / ".local" / "certs"
    channel = secure_channel(
        catalog, ca_file=certs / "ca.pem", cert_file=certs / "gateway.pem", key_file=certs / "gateway.key"
    )
    with channel:
        stub = pb_grpc.CatalogServiceStub(channel)
        return eventually(
            lambda: {g.display_name for g in stub.SearchGames(pb.SearchGamesRequest(query="pokemon")).games},
            timeout=timeout,
            interval=0.5,
            what="the sample deliveries reaching the catalog",
        )


def run_in(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """`command` run in `root` as a user of the suite would, its output captured."""
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=30, check=False)


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
        answer = run_in(fresh_root, str(grpcurl), *tls, suite["catalog"], "grpc.health.v1.Health/Check")
        assert '"status": "SERVING"' in answer.stdout, answer.stderr

        # The lines `make up` prints: grpcurl through the gateway with the reader key, and gamectl.
        bearer = ["-H", f"authorization: Bearer {suite['api_keys']['reader']}", "-d", '{"query": "pokemon"}']
        search = "games.catalog.v1.CatalogService/SearchGames"
        answer = run_in(fresh_root, str(grpcurl), *tls, *bearer, suite["gateway"], search)
        assert "Pokémon GO" in answer.stdout, answer.stderr
        search_games = ["games", "search", "pokemon", "--suite", ".local/suite.json"]
        listed = run_in(fresh_root, sys.executable, "-m", "gamectl", *search_games)
        assert "Pokémon GO" in listed.stdout, listed.stderr

        process.send_signal(signal.SIGTERM)
        printed, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        assert "grpcurl" in printed.decode(), "make up prints a grpcurl line to try"
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
