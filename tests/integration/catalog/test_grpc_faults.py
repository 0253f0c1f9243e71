"""The catalog under faults: SIGTERM with a call in flight, and its database going away and back."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import grpc
import pytest

from catalog.storage.migrate import upgrade
from gamectl.certs import DevPki
from gamectl.localpg import LocalPostgres
from gamectl.net import free_port
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from tests.fixtures.catalog import StartCatalog
from tests.fixtures.health import NOT_SERVING, SERVING, wait_for_health
from tests.fixtures.servers import python_m

HEALTH_TIMEOUT = 30.0  # seconds a health change may take


@pytest.fixture
def catalog_process(dev_pki: DevPki, database_url: str) -> Iterator[tuple[subprocess.Popen[bytes], int, int]]:
    """`python -m catalog serve` as its own process; yields it with its mTLS and health ports."""
    port, health_port = free_port(), free_port()
    cert = dev_pki.certs["catalog"]
    env = {
        **os.environ,
        "CATALOG_DATABASE_URL": database_url,
        "CATALOG_PORT": str(port),
        "CATALOG_HEALTH_PORT": str(health_port),
        "CATALOG_METRICS_PORT": "0",
        "CATALOG_TLS_CERT_FILE": str(cert.cert_file),
        "CATALOG_TLS_KEY_FILE": str(cert.key_file),
        "CATALOG_TLS_CA_FILE": str(dev_pki.ca_file),
        "CATALOG_GRACE_PERIOD_SECONDS": "20",
    }
    with python_m("catalog", "serve", env=env) as process:
        wait_for_health(health_port, SERVING, timeout=HEALTH_TIMEOUT)
        yield process, port, health_port


def test_sigterm_lets_an_in_flight_import_finish_then_exits_0(
    catalog_process: tuple[subprocess.Popen[bytes], int, int],
    channel_as: Callable[[str, str], grpc.Channel],
) -> None:
    process, port, health_port = catalog_process
    stub = pb_grpc.CatalogServiceStub(channel_as(f"127.0.0.1:{port}", "ingestion"))
    first_batch_sent, may_finish = threading.Event(), threading.Event()

    def requests() -> Iterator[pb.ImportGamesRequest]:
        yield pb.ImportGamesRequest(
            header=pb.ImportHeader(source=pb.ImportSource(bucket="b", key="drain.json"))
        )
        yield pb.ImportGamesRequest(
            batch=pb.ImportBatch(games=[pb.Game(display_name="A", platform=pb.PLATFORM_IOS, store_id="1")])
        )
        first_batch_sent.set()
        may_finish.wait(30)
        yield pb.ImportGamesRequest(
            batch=pb.ImportBatch(games=[pb.Game(display_name="B", platform=pb.PLATFORM_IOS, store_id="2")])
        )
        yield pb.ImportGamesRequest(commit=pb.ImportCommit(game_count=2))

    in_flight = stub.ImportGames.future(requests(), timeout=60)
    assert first_batch_sent.wait(10)
    time.sleep(0.3)  # let the first batch reach the server
    process.send_signal(signal.SIGTERM)
    wait_for_health(health_port, NOT_SERVING, timeout=10)
    may_finish.set()

    assert in_flight.result().import_record.received_count == 2
    assert process.wait(timeout=30) == 0


def test_database_down_means_not_serving_and_unavailable_then_recovers(
    start_catalog: StartCatalog,
    private_postgres: LocalPostgres,
    channel_as: Callable[[str, str], grpc.Channel],
) -> None:
    upgrade(private_postgres.url())
    catalog = start_catalog(private_postgres.url())
    stub = pb_grpc.CatalogServiceStub(channel_as(catalog.target, "gateway"))
    assert stub.ListGames(pb.ListGamesRequest()).games == []

    private_postgres.stop()
    wait_for_health(catalog.host.health_port, NOT_SERVING, timeout=HEALTH_TIMEOUT)
    with pytest.raises(grpc.RpcError) as down:
        stub.ListGames(pb.ListGamesRequest(), timeout=15)
    details = error_details(down.value)
    assert details.code == grpc.StatusCode.UNAVAILABLE
    for leak in ("127.0.0.1", "psycopg", "SELECT", str(private_postgres.port)):
        assert leak not in details.message

    private_postgres.start()
    wait_for_health(catalog.host.health_port, SERVING, timeout=HEALTH_TIMEOUT)
    assert stub.ListGames(pb.ListGamesRequest()).games == []
