"""`python -m ingestion run-once` as the CronJob runs it, and a big delivery for it to import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mypy_boto3_s3 import S3Client

from ingestion.app import IngestionApp
from ingestion.model import FileState
from tests.fixtures.eventually import eventually

RUN_ONCE = [sys.executable, "-m", "ingestion", "run-once"]
BIG_KEY = "big/ios.top100.json.gz"


def run_once(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`ingestion run-once` to its end, its output captured."""
    return subprocess.run(RUN_ONCE, env=env, capture_output=True, text=True, timeout=120, check=False)


def start_run_once(env: dict[str, str], *, stdout: int) -> subprocess.Popen[str]:
    """`ingestion run-once` in the background, its stderr discarded."""
    return subprocess.Popen(RUN_ONCE, env=env, stdout=stdout, stderr=subprocess.DEVNULL, text=True)


def put_file(s3_client: S3Client, bucket: str, path: Path) -> None:
    """Upload a generated delivery under BIG_KEY, streamed from disk."""
    with path.open("rb") as body:
        s3_client.put_object(Bucket=bucket, Key=BIG_KEY, Body=body)


def wait_until_importing(ingestion: IngestionApp, timeout: float = 60.0) -> None:
    """Until the ledger's one file is being imported."""

    def importing() -> bool:
        files = ingestion.ledger.list_files().items
        return bool(files) and files[0].state is FileState.IMPORTING

    eventually(importing, timeout=timeout, interval=0.05, what="the file importing")
