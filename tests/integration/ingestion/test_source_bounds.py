"""S3Source.open bounds what a body may inflate to: its decompressed size and its gzip ratio (moto's S3)."""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import pytest

from ingestion.parsing.records import parse_delivery
from ingestion.sources.s3 import CorruptObject, S3Source
from tests.factories import hostile
from tests.factories.deliveries import app, delivery

MiB = 2**20


def put(s3_client, bucket: str, key: str, body: bytes) -> S3Source:
    s3_client.put_object(Bucket=bucket, Key=key, Body=body)
    return S3Source(client=s3_client, bucket=bucket)


def read_all(source: S3Source) -> int:
    (obj,) = source.list_objects()
    total = 0
    with source.open(obj) as stream:
        while chunk := stream.read(64 * 1024):
            total += len(chunk)
    return total


def refused(source: S3Source) -> str:
    with pytest.raises(CorruptObject) as caught:
        read_all(source)
    assert "/tmp" not in caught.value.reason  # a reason names the object, never a local path
    return caught.value.reason


def test_a_plain_file_larger_than_the_bound_is_refused(s3_client, bucket):
    source = put(s3_client, bucket, "ios.top100.json", b" " * 300_000)
    source.max_bytes = 200_000
    assert refused(source) == (
        f"s3://{bucket}/ios.top100.json is larger than 195 KiB (INGESTION_MAX_FILE_BYTES)"
    )


def test_a_gzip_file_is_bounded_by_its_decompressed_size(s3_client, bucket):
    noise = random.Random(1).randbytes(2 * MiB)  # incompressible: the ratio stays near 1
    source = put(s3_client, bucket, "ios.top100.json.gz", gzip.compress(noise))
    source.max_bytes = MiB
    assert refused(source) == (
        f"s3://{bucket}/ios.top100.json.gz is larger than 1 MiB decompressed (INGESTION_MAX_FILE_BYTES)"
    )


def test_a_file_at_the_bound_passes(s3_client, bucket):
    source = put(s3_client, bucket, "ios.top100.json.gz", gzip.compress(b" " * 500_000))
    source.max_bytes = 500_000
    assert read_all(source) == 500_000


def test_a_gzip_bomb_is_refused_soon_after_1_mib(s3_client, bucket, tmp_path: Path):
    path = hostile.gzip_bomb(tmp_path / "ios.top100.json.gz", inflated=500 * MiB)
    source = put(s3_client, bucket, "ios.top100.json.gz", path.read_bytes())
    reason = refused(source)
    assert reason.startswith(f"s3://{bucket}/ios.top100.json.gz inflates to more than 100 times its "), reason
    assert "compressed bytes (a gzip bomb?); refused after " in reason
    refused_after = float(reason.rsplit(" ", 2)[1])
    assert 1 <= refused_after < 20, reason  # MiB: well before the 500 MiB it would inflate to


def test_a_small_file_never_trips_the_ratio(s3_client, bucket):
    # ~1000:1, but under 1 MiB decompressed: a small repetitive file, not a bomb.
    body = gzip.compress(b"[[]" + b" " * (MiB - 10) + b"]", compresslevel=9)
    source = put(s3_client, bucket, "ios.top100.json.gz", body)
    assert len(body) * 100 < MiB
    assert read_all(source) == MiB - 6


def test_a_normal_delivery_reads_through_both_bounds(s3_client, bucket):
    data = delivery([[app(rank * 3 + n) for n in range(3)] for rank in range(200)])
    body = gzip.compress(data, compresslevel=1)
    assert 10 < len(data) / len(body) < 100  # generated apps compress better than real ones, not that much
    source = put(s3_client, bucket, "ios.top100.json.gz", body)
    source.max_bytes = len(data)
    (obj,) = source.list_objects()
    with source.open(obj) as stream:
        assert sum(1 for _ in parse_delivery(stream)) == 600


def test_the_ratio_is_checked_against_what_was_read_so_far(s3_client, bucket):
    # A real delivery (~5:1 here) followed by a run that inflates ~1000:1 is refused once the run dominates.
    data = delivery([[app(n) for n in range(3)] for _ in range(20)])
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb") as gz:
        gz.write(data[:-1] + b"," + b" " * (200 * MiB) + b"[]]")
    source = put(s3_client, bucket, "ios.top100.json.gz", out.getvalue())
    assert "a gzip bomb?" in refused(source)
