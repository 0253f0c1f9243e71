"""Ledger reads stuck behind a table lock give up in time and free their pooled connections.

Another connection holds an exclusive lock on `ingestion.runs`, so ListRuns waits in PostgreSQL. More
such calls at once than the ledger pool has connections (5, and 5 more under load) must each end at the
lock timeout or the caller's deadline, and ListFiles, which needs no lock on runs, must still answer.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from gamekit.serving.host import ServiceHost
from gamekit.status import error_details
from games.ingestion.v1 import ingestion_pb2 as pb
from games.ingestion.v1 import ingestion_pb2_grpc as pb_grpc
from tests.fixtures.databases import holding
from tests.fixtures.pki import ChannelAs

CONNECTIONS = 10  # the ledger's pool size and overflow
LOCKED = "LOCK TABLE ingestion.runs IN ACCESS EXCLUSIVE MODE"


@pytest.fixture
def ledger_as(
    start_ingestion_service: Callable[..., ServiceHost], bucket: str, channel_as: ChannelAs
) -> Callable[..., pb_grpc.IngestionServiceStub]:
    def start(**settings: object) -> pb_grpc.IngestionServiceStub:
        host = start_ingestion_service(bucket=bucket, catalog_target="127.0.0.1:1", **settings)
        return pb_grpc.IngestionServiceStub(channel_as(f"127.0.0.1:{host.port}", "gateway"))

    return start


def list_runs_at_once(ledger: pb_grpc.IngestionServiceStub, timeout: float) -> list[grpc.RpcError]:
    def call(_: int) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as failed:
            ledger.ListRuns(pb.ListRunsRequest(), timeout=timeout)
        return failed.value

    with ThreadPoolExecutor(CONNECTIONS + 2) as pool:
        return list(pool.map(call, range(CONNECTIONS + 2)))


def test_reads_behind_a_table_lock_give_up_at_the_lock_timeout(ledger_as, platform_database_url: str) -> None:
    ledger = ledger_as(db_lock_timeout_seconds=0.2)
    with holding(platform_database_url, LOCKED):
        for error in list_runs_at_once(ledger, timeout=10):
            details = error_details(error)
            assert (details.code, details.reason) == (grpc.StatusCode.UNAVAILABLE, "LOCK_TIMEOUT")
            assert "ingestion." not in details.message
            assert "lock table" not in details.message.lower()
        assert list(ledger.ListFiles(pb.ListFilesRequest(), timeout=5).files) == []
    assert list(ledger.ListRuns(pb.ListRunsRequest(), timeout=5).runs) == []


def test_reads_whose_deadline_passes_behind_a_table_lock_free_their_connections(
    ledger_as, platform_database_url: str
) -> None:
    ledger = ledger_as(db_lock_timeout_seconds=60)
    with holding(platform_database_url, LOCKED):
        for error in list_runs_at_once(ledger, timeout=0.5):
            assert error.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        assert list(ledger.ListFiles(pb.ListFilesRequest(), timeout=5).files) == []
