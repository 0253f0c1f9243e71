"""Memory stays flat however large the file: a behaviour check on generated files, not a timing check."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import psutil
import pytest

from ingestion.parsing.records import Accepted, parse_delivery
from tests.factories.deliveries import large_delivery


def test_large_delivery_writes_valid_groups_of_realistic_records(tmp_path: Path):
    path = tmp_path / "ios.top100.json"
    written = large_delivery(path, 10, charts=3, apps=4)
    assert written == path.stat().st_size
    groups = json.loads(path.read_bytes())
    assert [len(g) for g in groups] == [3, 3, 3, 1]
    assert [r["rank"] for g in groups for r in g] == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]
    assert [r["app_id"] for r in groups[1]] == [1100000003, 1100000000, 1100000001]
    assert all(len(r) >= 45 and 2_000 < len(json.dumps(r)) < 10_000 for g in groups for r in g)


def test_large_delivery_gzip_and_android_and_empty(tmp_path: Path):
    path = tmp_path / "android.top100.json.gz"
    written = large_delivery(path, 5, "android")
    data = gzip.decompress(path.read_bytes())
    assert len(data) == written
    assert {r["app_id"] for g in json.loads(data) for r in g} == {f"com.studio.game{n}" for n in range(5)}
    large_delivery(tmp_path / "empty.json", 0)
    assert json.loads((tmp_path / "empty.json").read_bytes()) == []


def test_python_allocations_stay_small_while_parsing(tmp_path: Path):
    path = tmp_path / "ios.top100.json"
    size = large_delivery(path, 4_000)
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            count = sum(isinstance(item, Accepted) for item in parse_delivery(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 4_000
    # Holding the file would take several times its size in Python objects.
    assert peak < min(8 * 2**20, size / 2), (peak, size)


@pytest.mark.slow
def test_rss_stays_flat_over_a_60k_record_file(tmp_path: Path):
    path = tmp_path / "ios.top100.json"
    size = large_delivery(path, 60_000)
    process = psutil.Process()
    baseline = peak = process.memory_info().rss
    count = 0
    try:
        with path.open("rb") as stream:
            for item in parse_delivery(stream):
                count += isinstance(item, Accepted)
                if count % 2_000 == 0:
                    peak = max(peak, process.memory_info().rss)
    finally:
        path.unlink()  # about 300 MB: don't leave it to pytest's retained tmp directories
    assert count == 60_000
    assert size > 250 * 2**20
    assert peak - baseline < 50 * 2**20, (peak - baseline) / 2**20
