"""S3 and the catalog going away, then coming back; two runs at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from mypy_boto3_s3 import S3Client

from gamectl.s3local import LocalS3
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from ingestion.app import IngestionApp
from ingestion.model import FileState, Outcome, RunState, RunSummary
from tests.factories.deliveries import app, delivery
from tests.fixtures.catalog import RunningCatalog, StartCatalog
from tests.integration.ingestion.conftest import MEDIUM_RECORDS, Put, imports
from tests.integration.ingestion.run_once import put_file, wait_until_importing


def test_s3_unavailable_fails_the_run_then_the_next_run_imports(
    ingestion: IngestionApp,
    moto_server: LocalS3,
    s3_client: S3Client,
    bucket: str,
    gateway: cpb_grpc.CatalogServiceStub,
) -> None:
    moto_server.stop()
    down = ingestion.runner.run()
    assert down.run.state is RunState.FAILED
    assert down.run.error.startswith(f"cannot list s3://{bucket}/")
    assert down.files == ()

    moto_server.start()  # moto keeps nothing across a restart: deliver again
    s3_client.create_bucket(Bucket=bucket)
    s3_client.put_object(Bucket=bucket, Key="back/ios.top100.json", Body=delivery([[app(1)]]))
    back = ingestion.runner.run()
    assert back.succeeded, back
    assert back.run.files_imported == 1
    assert len(imports(gateway)) == 1


def test_s3_lost_between_listing_and_reading_fails_the_file(
    ingestion: IngestionApp, moto_server: LocalS3, put: Put, monkeypatch: pytest.MonkeyPatch
) -> None:
    put("gone/ios.top100.json", delivery([[app(1)]]))
    listed = ingestion.runner._source.list_objects()
    monkeypatch.setattr(ingestion.runner._source, "list_objects", lambda: listed)
    moto_server.stop()
    summary = ingestion.runner.run()
    (outcome,) = summary.files
    assert outcome.outcome is Outcome.FAILED
    assert outcome.reason.startswith("cannot read s3://")
    assert "gave up after 2 attempts" in outcome.reason
    entry = ingestion.ledger.get_file(outcome.file_id or 0)
    assert (entry.state, entry.attempts) == (FileState.FAILED, 2)


@pytest.mark.slow
def test_catalog_lost_mid_stream_publishes_nothing_then_the_next_run_imports(
    build_ingestion_app: Callable[..., IngestionApp],
    start_catalog: StartCatalog,
    platform_database_url: str,
    catalog: RunningCatalog,
    s3_client: S3Client,
    bucket: str,
    medium_file: Path,
    channel_as: Callable[[str, str], grpc.Channel],
) -> None:
    put_file(s3_client, bucket, medium_file)
    ingestion = build_ingestion_app(bucket=bucket, catalog_target=catalog.target, import_batch_size=500)
    result: list[RunSummary] = []
    running = threading.Thread(target=lambda: result.append(ingestion.runner.run()))
    running.start()
    wait_until_importing(ingestion)
    time.sleep(1.0)  # well into the stream
    assert running.is_alive(), "the import finished before the catalog could be stopped"
    catalog.host.stop(0)
    running.join(timeout=60)
    (summary,) = result
    (outcome,) = summary.files
    assert outcome.outcome is Outcome.FAILED, "the catalog went away before the stream ended"
    assert "catalog is unavailable" in outcome.reason

    restarted = start_catalog(platform_database_url)
    gateway = cpb_grpc.CatalogServiceStub(channel_as(restarted.target, "gateway"))
    assert imports(gateway) == [], "nothing of the cut stream was published"
    again = build_ingestion_app(
        bucket=bucket, catalog_target=restarted.target, import_batch_size=500
    ).runner.run()
    assert again.succeeded, again
    (published,) = imports(gateway)
    assert published.received_count == MEDIUM_RECORDS


def test_two_runs_at_once_import_each_file_exactly_once(
    build_ingestion_app: Callable[..., IngestionApp],
    catalog: RunningCatalog,
    bucket: str,
    put: Put,
    gateway: cpb_grpc.CatalogServiceStub,
) -> None:
    keys = [f"overlap/{n}.json" for n in range(6)]
    for n, key in enumerate(keys):
        put(key, delivery([[app(1000 * n + i) for i in range(1, 1500)]]))
    first = build_ingestion_app(bucket=bucket, catalog_target=catalog.target)
    second = build_ingestion_app(bucket=bucket, catalog_target=catalog.target)
    start = threading.Barrier(2)
    results: list[RunSummary] = []

    def run(ingestion: IngestionApp) -> None:
        start.wait()
        results.append(ingestion.runner.run())

    threads = [threading.Thread(target=run, args=(i,)) for i in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == 2
    assert all(r.succeeded for r in results), results
    for key in keys:
        outcomes = sorted(o.outcome.value for r in results for o in r.files if o.source.key == key)
        assert outcomes == ["imported", "skipped"], key
    assert sum(r.run.files_imported for r in results) == len(keys)
    assert sorted(i.source.key for i in imports(gateway)) == keys
    assert all(f.attempts == 1 for f in first.ledger.list_files(page_size=100).items)
