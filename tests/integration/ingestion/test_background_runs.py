"""RunIngestion answers at once with the run, which goes on in the background; SIGTERM in the middle of one.

A run is held in the middle, deterministically, by `files_table_held`: it waits to claim its file until
the test lets go.
"""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable

import grpc
import pytest
from sqlalchemy import Engine

from gamectl.certs import DevPki
from gamectl.net import free_port
from gamekit.serving.host import ServiceHost
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as pb
from games.ingestion.v1 import ingestion_pb2_grpc as pb_grpc
from ingestion.app import IngestionApp, access_policy, build_ingestion
from ingestion.model import RunState
from tests.factories.deliveries import app, delivery
from tests.fixtures.catalog import RunningCatalog
from tests.fixtures.health import SERVING, wait_for_health
from tests.fixtures.ingestion import (
    ended_run,
    files_table_held,
    ingestion_settings,
    wait_until_a_run_waits,
)
from tests.fixtures.servers import python_m
from tests.integration.ingestion.conftest import Put, all_games, imports
from tests.integration.ingestion.locks import wait_until_no_advisory_locks


@pytest.fixture
def admin(
    start_ingestion_service: Callable[..., ServiceHost],
    catalog: RunningCatalog,
    bucket: str,
    channel_as: Callable[[str, str], grpc.Channel],
) -> pb_grpc.IngestionServiceStub:
    # The run waits at a lock in these tests for as long as they hold it.
    host = start_ingestion_service(bucket=bucket, catalog_target=catalog.target, db_lock_timeout_seconds=60)
    return pb_grpc.IngestionServiceStub(channel_as(f"127.0.0.1:{host.port}", "gateway"))


def test_run_ingestion_answers_with_the_running_run_and_get_run_shows_its_end(
    admin: pb_grpc.IngestionServiceStub,
    put: Put,
    gateway: cpb_grpc.CatalogServiceStub,
    platform_database_url: str,
    ledger_engine: Engine,
) -> None:
    put("a/ios.top100.json", delivery([[app(1), app(2)], [app(3)]]))

    with files_table_held(platform_database_url):
        started = admin.RunIngestion(pb.RunIngestionRequest(), timeout=10).run
        # Answered while the run cannot have imported anything: it waits for the lock held here.
        assert started.state == pb.RUN_STATE_RUNNING
        assert started.trigger == pb.RUN_TRIGGER_ADMIN
        assert started.name.startswith("runs/")
        assert started.HasField("start_time")
        assert not started.HasField("end_time")
        wait_until_a_run_waits(ledger_engine)
        assert admin.GetRun(pb.GetRunRequest(name=started.name), timeout=10).run.state == pb.RUN_STATE_RUNNING

        with pytest.raises(grpc.RpcError) as busy:
            admin.RunIngestion(pb.RunIngestionRequest(), timeout=10)
        details = error_details(busy.value)
        assert (details.code, details.reason) == (grpc.StatusCode.ABORTED, "RUN_IN_PROGRESS")
        assert started.name in details.message

    ended = ended_run(admin, started.name)
    assert ended.state == pb.RUN_STATE_SUCCEEDED
    assert (ended.files_imported, ended.records_imported) == (1, 3)
    assert ended.start_time == started.start_time
    assert len(all_games(gateway)) == 3
    # The slot is free again once the run has ended.
    again = ended_run(admin, admin.RunIngestion(pb.RunIngestionRequest(), timeout=10).run.name)
    assert (again.state, again.files_skipped) == (pb.RUN_STATE_SUCCEEDED, 1)


def test_sigterm_during_a_run_exits_and_the_next_run_marks_it_failed_and_imports_its_file(
    env: dict[str, str],
    put: Put,
    platform_database_url: str,
    ledger_engine: Engine,
    ingestion: IngestionApp,
    gateway: cpb_grpc.CatalogServiceStub,
    channel_as: Callable[[str, str], grpc.Channel],
) -> None:
    put("a/ios.top100.json", delivery([[app(1), app(2)]]))
    port, health_port = free_port(), free_port()
    service_env = {
        **env,
        "INGESTION_PORT": str(port),
        "INGESTION_HEALTH_PORT": str(health_port),
        "INGESTION_METRICS_PORT": "0",
        "INGESTION_GRACE_PERIOD_SECONDS": "1",
        "INGESTION_DB_LOCK_TIMEOUT_SECONDS": "60",
    }
    with python_m("ingestion", "serve", env=service_env, stderr=subprocess.DEVNULL) as process:
        wait_for_health(health_port, SERVING, timeout=30)
        admin = pb_grpc.IngestionServiceStub(channel_as(f"127.0.0.1:{port}", "gateway"))
        with files_table_held(platform_database_url):
            started = admin.RunIngestion(pb.RunIngestionRequest(), timeout=10).run
            wait_until_a_run_waits(ledger_engine)
            process.send_signal(signal.SIGTERM)
            # The run cannot end while the lock is held here: the process must leave it behind.
            assert process.wait(timeout=60) == 0

    assert imports(gateway) == [], "the cut run published nothing"
    wait_until_no_advisory_locks(ledger_engine, timeout=30)
    summary = ingestion.runner.run()
    assert summary.run.files_imported == 1, summary
    cut = ingestion.ledger.get_run(int(started.name.removeprefix("runs/")))
    assert cut.state is RunState.FAILED
    assert cut.error.startswith("the run ended without recording its end")
    (published,) = imports(gateway)
    assert published.created_count == 2
    assert len(all_games(gateway)) == 2


def test_a_run_that_cannot_begin_is_the_callers_error_and_frees_the_slot(
    dev_pki: DevPki,
    aws_env: dict[str, str],
    bucket: str,
    channel_as: Callable[[str, str], grpc.Channel],
) -> None:
    nowhere = f"postgresql+psycopg://ingestion@127.0.0.1:{free_port()}/ledger"
    settings = ingestion_settings(dev_pki, nowhere, bucket=bucket, catalog_target="127.0.0.1:1")
    app = build_ingestion(settings)
    with ServiceHost(settings, app.bindings, access_policy(settings), app.ready, app.host_options) as host:
        admin = pb_grpc.IngestionServiceStub(channel_as(f"127.0.0.1:{host.port}", "gateway"))
        for _ in range(2):  # the second is not ABORTED: the first run never began, so holds nothing
            with pytest.raises(grpc.RpcError) as down:
                admin.RunIngestion(pb.RunIngestionRequest(), timeout=30)
            details = error_details(down.value)
            assert details.code == grpc.StatusCode.UNAVAILABLE
            assert "127.0.0.1" not in details.message
