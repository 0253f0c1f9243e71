"""`python -m ingestion` as the CronJob runs it: summary and exit codes, a kill mid-file, bounded memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mypy_boto3_s3 import S3Client

from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from ingestion.app import IngestionApp
from ingestion.model import FileState, RunState
from tests.factories.deliveries import app, delivery
from tests.fixtures import peak_rss
from tests.integration.ingestion.conftest import LARGE_RECORDS, MEDIUM_RECORDS, Put, imports
from tests.integration.ingestion.locks import wait_until_no_advisory_locks
from tests.integration.ingestion.run_once import (
    RUN_ONCE,
    put_file,
    run_once,
    start_run_once,
    wait_until_importing,
)

MiB = 1024 * 1024


def test_run_once_prints_a_summary_and_exits_by_outcome(env: dict[str, str], put: Put) -> None:
    put("d/ios.top100.json", delivery([[app(n) for n in range(1, 21)] + [{}], [app(1, rank=9)]]))
    ok = run_once(env)
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[0].startswith("Ingestion run runs/1 (schedule) succeeded in ")
    assert lines[1] == "Files:   1 imported, 0 skipped, 0 failed, 0 rejected"
    assert lines[2] == "Records: 21 imported (0 repaired), 1 quarantined, 1 duplicate"
    assert "d/ios.top100.json" in lines[3]
    assert len(lines) <= 25

    put("d/android.top100.json", b"[[{")
    failed = run_once(env)
    assert failed.returncode == 1
    assert "Files:   0 imported, 1 skipped, 0 failed, 1 rejected" in failed.stdout
    assert "REJECTED  d/android.top100.json  truncated" in failed.stdout


def test_a_bad_setting_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    result = run_once({**env, "INGESTION_MAX_ATTEMPTS": "0"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "invalid setting INGESTION_MAX_ATTEMPTS: Input should be greater than or equal to 1 (got '0')"
    ]
    assert "INGESTION_S3_BUCKET" in run_once({**env, "INGESTION_S3_BUCKET": ""}).stderr


def test_migrate_needs_only_the_database_url(platform_database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGESTION_")}
    result = subprocess.run(
        [sys.executable, "-m", "ingestion", "migrate"],
        env={**env, "INGESTION_DATABASE_URL": platform_database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_killed_mid_file_then_the_next_run_imports_it_once(
    env: dict[str, str],
    medium_file: Path,
    s3_client: S3Client,
    bucket: str,
    ingestion: IngestionApp,
    gateway: cpb_grpc.CatalogServiceStub,
) -> None:
    put_file(s3_client, bucket, medium_file)
    process = start_run_once(env, stdout=subprocess.DEVNULL)
    try:
        wait_until_importing(ingestion)
        time.sleep(1.0)  # well into the stream
        assert process.poll() is None, "the import finished before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    assert imports(gateway) == [], "the catalog shows nothing of a file whose import was cut"
    (killed,) = ingestion.ledger.list_runs().items
    assert killed.state is RunState.RUNNING
    wait_until_no_advisory_locks(ingestion.engine, timeout=10)
    summary = ingestion.runner.run()
    assert summary.run.files_imported == 1, summary
    killed = ingestion.ledger.get_run(killed.id)
    assert killed.state is RunState.FAILED, "the killed run still shows as running"
    assert killed.error.startswith("the run ended without recording its end")
    (published,) = imports(gateway)
    assert published.created_count == MEDIUM_RECORDS
    entry = ingestion.ledger.list_files().items[0]
    assert (entry.state, entry.attempts) == (FileState.IMPORTED, 2)


@pytest.mark.slow
def test_a_100k_record_file_is_imported_with_bounded_memory(
    env: dict[str, str],
    large_file: Path,
    s3_client: S3Client,
    bucket: str,
    gateway: cpb_grpc.CatalogServiceStub,
) -> None:
    put_file(s3_client, bucket, large_file)
    measured = peak_rss.run(RUN_ONCE, env=env, timeout=180)
    assert measured.returncode == 0, measured.stdout
    assert f"{LARGE_RECORDS} imported" in measured.stdout
    # About 500 MB of JSON once gunzipped: holding it, let alone as Python objects, would blow this.
    peak = measured.peak_rss
    assert peak < 256 * MiB, f"peak RSS {peak / MiB:.0f} MiB"
    print(f"peak RSS of run-once over {LARGE_RECORDS} records: {peak / MiB:.0f} MiB")
    (published,) = imports(gateway)
    assert published.received_count == LARGE_RECORDS
