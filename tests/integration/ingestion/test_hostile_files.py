"""Hostile files through `ingestion run-once`, as the CronJob runs it: a reason each, bounded memory.

Each file is generated at test time, uploaded to moto's S3, and ingested by a child process whose peak
RSS is the kernel's own figure (`wait4`'s ru_maxrss), not a sample. The pods' limit is 512Mi; the
target is half that, whatever the file. After each, a good delivery imports: nothing is stuck.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from mypy_boto3_s3 import S3Client

import tests.factories.hostile as hostile
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from ingestion.app import IngestionApp
from ingestion.model import FileState
from tests.factories.deliveries import app, delivery
from tests.fixtures import peak_rss
from tests.integration.ingestion.conftest import all_games
from tests.integration.ingestion.run_once import RUN_ONCE

MiB = 2**20
PEAK_RSS_LIMIT = 256 * MiB


@dataclass(frozen=True)
class Hostile:
    """A hostile file: how to write it, and what the ledger must say of it."""

    write: Callable[[Path], Path]
    state: FileState
    reason: str  # a pattern the start of the file's reject reason matches ("" for an imported file)


HOSTILE = {
    # Plain JSON: nothing stops it before every element is parsed, so this is the memory bound itself.
    "one 31 MiB group of {}": Hostile(
        lambda d: hostile.empty_objects_group(d / "ios.top100.json"),
        FileState.REJECTED,
        r"(\d{8}) of \1 records quarantined \(100\.0%, more than the 5\.0% allowed\); first reason: "
        "empty record",
    ),
    # The same as the issue's ~40 KB upload: the gzip ratio stops it after a few MiB.
    "one 31 MiB group of {}, gzipped": Hostile(
        lambda d: hostile.empty_objects_group(d / "ios.top100.json.gz"),
        FileState.REJECTED,
        r"s3://\S+ inflates to more than 100 times its \d+ compressed bytes",
    ),
    # One app object of 10 GB of "A"s: over the 1 MiB bound of an app object before the ratio's 1 MiB.
    "a gzip bomb inflating to 10 GB": Hostile(
        lambda d: hostile.gzip_bomb(d / "ios.top100.json.gz"),
        FileState.REJECTED,
        r"(wrong shape: an app object larger than 1 MiB|s3://\S+ inflates to more than 100 times)",
    ),
    # A quarter of the million: memory is flat in the count (one app object at a time), and the
    # catalog's import of a million duplicates alone takes a minute here; `make bench` runs the million.
    "250,000 copies of one app": Hostile(
        lambda d: hostile.million_copies(d / "ios.top100.json", copies=250_000), FileState.IMPORTED, ""
    ),
    "one 60 KB record repeated": Hostile(
        lambda d: hostile.repeated_record(d / "ios.top100.json", copies=2_000),
        FileState.REJECTED,
        r"2000 of 2000 records quarantined \(100\.0%, more than the 5\.0% allowed\); first reason: "
        "missing app_id",
    ),
    "a truncated file": Hostile(
        lambda d: hostile.truncated(d / "ios.top100.json"), FileState.REJECTED, "truncated"
    ),
    "one huge string": Hostile(
        lambda d: hostile.huge_string(d / "ios.top100.json"), FileState.REJECTED, "wrong shape"
    ),
}


def run_once_measured(env: dict[str, str]) -> tuple[int, str, int]:
    """`ingestion run-once`: exit code, stdout, and its own peak RSS in bytes."""
    measured = peak_rss.run(RUN_ONCE, env=env)
    return measured.returncode, measured.stdout, measured.peak_rss


@pytest.mark.slow
@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_gets_its_reason_in_bounded_memory_and_the_next_run_succeeds(
    name: str,
    env: dict[str, str],
    ingestion: IngestionApp,
    s3_client: S3Client,
    bucket: str,
    gateway: cpb_grpc.CatalogServiceStub,
    tmp_path: Path,
) -> None:
    case = HOSTILE[name]
    path = case.write(tmp_path)
    s3_client.upload_file(str(path), bucket, f"hostile/{path.name}")
    path.unlink()

    code, summary, peak = run_once_measured(env)

    print(f"{name}: peak RSS {peak / MiB:.0f} MiB")
    assert peak < PEAK_RSS_LIMIT, f"{name}: peak RSS {peak / MiB:.0f} MiB"
    (entry,) = ingestion.ledger.list_files().items
    assert entry.state is case.state, (entry.state, entry.reject_reason or entry.error, summary)
    assert re.match(case.reason, entry.reject_reason), entry.reject_reason
    assert code == (0 if case.state is FileState.IMPORTED else 1), summary

    s3_client.put_object(Bucket=bucket, Key="next/ios.top100.json", Body=delivery([[app(7)]]))
    code, summary, _ = run_once_measured(env)
    assert code == 0, summary
    assert "1 imported" in summary
    assert str(app(7)["app_id"]) in {g.store_id for g in all_games(gateway)}
