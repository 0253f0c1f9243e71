"""`gamectl health` (what `helm test` runs) reports each service's plaintext health port."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gamectl.__main__ import main
from gamectl.net import free_port


@pytest.fixture
def health_server() -> Iterator[tuple[str, health.HealthServicer]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(None)


def test_health_exits_zero_only_when_every_target_serves(health_server, capsys):
    target, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert main(["health", target]) == 0
    assert capsys.readouterr().out.strip() == f"{target} SERVING"

    nobody = f"127.0.0.1:{free_port()}"
    assert main(["health", "--timeout", "0.5", target, nobody]) == 1
    assert capsys.readouterr().out.strip().splitlines() == [
        f"{target} SERVING",
        f"{nobody} unreachable (DEADLINE_EXCEEDED)",
    ]


def test_not_serving_fails(health_server, capsys):
    target, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert main(["health", target]) == 1
    assert capsys.readouterr().out.strip() == f"{target} NOT_SERVING"
