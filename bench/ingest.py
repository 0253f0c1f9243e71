"""Ingestion end to end: a delivery in S3 to a published catalog import, with its peak RSS.

`python -m ingestion run-once` runs over a bucket holding only the benchmark's file (the suite's own
bucket sends S3 events to the running ingestion service, which would race the run). Its peak RSS is
the kernel's own figure (`wait4`'s ru_maxrss), taken by tests.fixtures.peak_rss so that this process's
own memory is not in it, not a sample; the CPU seconds of ingestion and of the catalog over the run
show where time goes.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import psutil
import psycopg
from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]

from bench import floors
from bench.platform import BenchPlatform
from tests.factories.streamed import WrittenDelivery, realistic_delivery
from tests.fixtures import peak_rss

BUCKET = "bench-deliveries"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Ingested:
    """One run-once over the benchmark's file."""

    seconds: float
    peak_rss_mib: float
    ingestion_cpu_seconds: float
    catalog_cpu_seconds: float
    catalog_import_id: int
    received: int
    created: int
    summary: str


def upload(platform: BenchPlatform, delivery: WrittenDelivery, key: str) -> float:
    """Put the file in the benchmark's bucket (multipart); the seconds it took."""
    s3 = platform.suite.s3
    if s3 is None:
        raise RuntimeError("the benchmarks run on the suite's local S3")
    s3.create_bucket(BUCKET)
    config = TransferConfig(multipart_threshold=64 * MiB, multipart_chunksize=64 * MiB, max_concurrency=4)
    started = time.perf_counter()
    with contextlib.closing(s3.s3_client()) as client:
        client.upload_file(str(delivery.path), BUCKET, key, Config=config)
    return time.perf_counter() - started


@dataclass(frozen=True)
class Child:
    """One `ingestion run-once` process, ended: its exit code, stdout, time, and the kernel's figures."""

    returncode: int
    stdout: str
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float


def run_child(platform: BenchPlatform, *, prefix: str = "") -> Child:
    """`ingestion run-once` over the benchmark bucket (keys under `prefix`), measured as the tests do."""
    env = {**platform.suite.ingestion_env, "INGESTION_S3_BUCKET": BUCKET, "INGESTION_S3_PREFIX": prefix}
    started = time.perf_counter()
    measured = peak_rss.run([sys.executable, "-m", "ingestion", "run-once"], env=env, timeout=4 * 3600)
    return Child(
        returncode=measured.returncode,
        stdout=measured.stdout.strip(),
        seconds=time.perf_counter() - started,
        peak_rss_mib=measured.peak_rss / MiB,
        cpu_seconds=measured.cpu_seconds,
    )


def run_once(platform: BenchPlatform, key: str) -> Ingested:
    """`ingestion run-once` over the benchmark bucket, timed, with its peak RSS and CPU."""
    catalog = psutil.Process(platform.service("catalog").process.pid)
    catalog_cpu = _cpu(catalog)
    child = run_child(platform, prefix=key)
    if child.returncode != 0:
        raise RuntimeError(f"ingestion run-once failed ({child.returncode}):\n{child.stdout}")
    row = _import_of(platform, key)
    return Ingested(
        seconds=child.seconds,
        peak_rss_mib=child.peak_rss_mib,
        ingestion_cpu_seconds=child.cpu_seconds,
        catalog_cpu_seconds=_cpu(catalog) - catalog_cpu,
        catalog_import_id=row[0],
        received=row[1],
        created=row[2],
        summary=child.stdout,
    )


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _import_of(platform: BenchPlatform, key: str) -> tuple[int, int, int]:
    with psycopg.connect(platform.database_url) as conn:
        row = conn.execute(
            "SELECT id, received_count, created_count FROM catalog.imports WHERE bucket = %s AND key = %s",
            (BUCKET, key),
        ).fetchone()
    if row is None:
        raise RuntimeError(f"no catalog import of s3://{BUCKET}/{key}")
    return int(row[0]), int(row[1]), int(row[2])


# orjson over the whole file needs about 9x the file in RAM; above this many records it is measured on a
# file of this many records from the same generator, and its time scaled per record.
WHOLE_PARSE_RECORDS = 100_000


def scenario(platform: BenchPlatform, records: int) -> dict[str, Any]:
    """Write, upload and ingest a delivery of `records` records; measure both floors on it."""
    started = time.perf_counter()
    delivery = realistic_delivery(platform.root / "bench-delivery.json", records)
    written = time.perf_counter() - started
    key = f"{date.today().isoformat()}/bench.top100.json"
    uploaded = upload(platform, delivery, key)
    ingested = run_once(platform, key)
    copy = floors.copy_floor(
        platform.database_url, import_id=ingested.catalog_import_id, rows=ingested.received
    )
    streamed = floors.parse_floor(delivery.path, whole=False)
    whole = _whole_parse(platform, delivery)
    delivery.path.unlink()
    return {
        "file": {
            "records": delivery.records,
            "bytes": delivery.bytes,
            "bytes_per_record": round(delivery.bytes / delivery.records),
            "repeats": delivery.repeats,
            "repairable": delivery.repairable,
            "quarantinable": delivery.quarantinable,
            "write_seconds": written,
            "upload_seconds": uploaded,
        },
        "ingestion": asdict(ingested),
        "floors": {"copy": asdict(copy), "parse_streamed": asdict(streamed), "parse_whole": asdict(whole)},
    }


def _whole_parse(platform: BenchPlatform, delivery: WrittenDelivery) -> floors.Floor:
    if delivery.records <= WHOLE_PARSE_RECORDS and floors.whole_file_fits(delivery.path):
        return floors.parse_floor(delivery.path, whole=True)
    sample = realistic_delivery(platform.root / "bench-delivery-sample.json", WHOLE_PARSE_RECORDS)
    try:
        measured = floors.parse_floor(sample.path, whole=True)
    finally:
        sample.path.unlink()
    return floors.Floor(
        measured.seconds * delivery.records / sample.records,
        f"{measured.how}, measured on {sample.records:,} records of the same generator and scaled per"
        f" record (the whole {delivery.bytes / 2**30:.1f} GiB file would need"
        f" ~{delivery.bytes * floors.WHOLE_FILE_RAM_FACTOR / 2**30:.0f} GiB of RAM)",
        measured.peak_rss_mib,
    )
