"""Hostile files: the peak RSS of `ingestion run-once` over each, and what became of the file.

Each file is generated at run time (tests.factories.hostile, the generators the tests use), uploaded
under a prefix of its own, and ingested by a child process whose peak RSS is the kernel's figure
(`wait4`). The target is 256 MiB for every file: memory follows what ingestion builds (one app object
at a time), not what it reads. The outcome comes from the ledger: rejected with its reason, or
imported with its quarantine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg

import tests.factories.hostile as hostile
from bench.ingest import BUCKET, run_child
from bench.platform import BenchPlatform

TARGET_MIB = 256
Writer = Callable[[Path, bool], Path]


def _files() -> dict[str, Writer]:
    """Each hostile file by name: a writer of it at full size, or small with `quick`."""
    return {
        "one 31 MiB group of {}": lambda d, q: hostile.empty_objects_group(
            d / "ios.top100.json.gz", size=(4 if q else 31) * 2**20
        ),
        "gzip bomb (10 GB inflated)": lambda d, q: hostile.gzip_bomb(
            d / "ios.top100.json.gz", inflated=(10**8 if q else 10 * 10**9)
        ),
        "one million copies of one app": lambda d, q: hostile.million_copies(
            d / "ios.top100.json", copies=50_000 if q else 1_000_000
        ),
        "one 60 KB record repeated": lambda d, q: hostile.repeated_record(
            d / "ios.top100.json", size=60_000, copies=500 if q else 5_000
        ),
        "a truncated file": lambda d, q: hostile.truncated(d / "ios.top100.json"),
        "one huge string": lambda d, q: hostile.huge_string(
            d / "ios.top100.json", size=(8 if q else 256) * 2**20
        ),
    }


@dataclass(frozen=True)
class HostileRun:
    """One hostile file through run-once."""

    name: str
    file_bytes: int
    seconds: float
    peak_rss_mib: float
    exit_code: int
    state: str
    reason: str
    records_quarantined: int


def scenario(platform: BenchPlatform, *, quick: bool) -> list[dict[str, Any]]:
    """Every hostile file, one run-once each; the results in order."""
    s3 = platform.suite.s3
    if s3 is None:
        raise RuntimeError("the benchmarks run on the suite's local S3")
    s3.create_bucket(BUCKET)
    results = []
    for n, (name, write) in enumerate(_files().items()):
        folder = platform.root / f"hostile-{n}"
        folder.mkdir(exist_ok=True)
        path = write(folder, quick)
        prefix = f"hostile/{n}/"
        with contextlib.closing(s3.s3_client()) as client:
            client.upload_file(str(path), BUCKET, prefix + path.name)
        child = run_child(platform, prefix=prefix)
        state, reason, quarantined = _ledger_entry(platform, prefix + path.name)
        results.append(
            asdict(
                HostileRun(
                    name=name,
                    file_bytes=path.stat().st_size,
                    seconds=child.seconds,
                    peak_rss_mib=child.peak_rss_mib,
                    exit_code=child.returncode,
                    state=state,
                    reason=reason,
                    records_quarantined=quarantined,
                )
            )
        )
        path.unlink()
    return results


def _ledger_entry(platform: BenchPlatform, key: str) -> tuple[str, str, int]:
    with psycopg.connect(platform.database_url) as conn:
        row = conn.execute(
            "SELECT state, coalesce(nullif(reject_reason, ''), error), records_quarantined"
            " FROM ingestion.files WHERE bucket = %s AND key = %s ORDER BY id DESC LIMIT 1",
            (BUCKET, key),
        ).fetchone()
    if row is None:
        return "not seen", "", 0
    return str(row[0]), str(row[1]), int(row[2])
