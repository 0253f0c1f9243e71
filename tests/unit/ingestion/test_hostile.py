"""Hostile files: each is refused or parsed as it should be, in memory that does not grow with the file."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from ingestion.parsing.records import Accepted, FileRejected, Quarantined, parse_delivery
from tests.factories import hostile

MiB = 2**20


def items_of(path: Path) -> Iterator[Accepted | Quarantined]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as stream:
        yield from parse_delivery(cast(BinaryIO, stream))


def traced_peak(path: Path) -> tuple[int, str | None, int]:
    """(elements parsed, the rejection reason or None, the peak of Python allocations while parsing)."""
    count, reason = 0, None
    tracemalloc.start()
    try:
        for _ in items_of(path):
            count += 1
    except FileRejected as exc:
        reason = exc.reason
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return count, reason, peak


def test_one_huge_group_of_empty_objects_streams_in_flat_memory(tmp_path: Path):
    path = hostile.empty_objects_group(tmp_path / "ios.top100.json.gz", size=3 * MiB)
    assert path.stat().st_size < 10_000
    count, reason, peak = traced_peak(path)
    assert (count, reason) == ((3 * MiB - 6) // 3 + 1, None)
    # The old parser built the whole group: ~25 bytes of objects per byte of JSON, ~75 MiB here. The
    # guard's greedy regex keeps ~5 MiB of backtracking state over a read of 21,000 `{}`s.
    assert peak < 8 * MiB, peak


def test_a_gzip_bomb_is_refused_at_its_first_oversized_value(tmp_path: Path):
    path = hostile.gzip_bomb(tmp_path / "ios.top100.json.gz")  # 10 GB inflated, ~10 MB on disk
    assert 5 * MiB < path.stat().st_size < 15 * MiB
    count, reason, peak = traced_peak(path)
    assert count == 0
    assert reason is not None
    assert reason.startswith("wrong shape: an app object larger than 1 MiB of JSON"), reason
    assert peak < 8 * MiB, peak


def test_the_bomb_inflates_to_what_it_says(tmp_path: Path):
    path = hostile.gzip_bomb(tmp_path / "bomb.json.gz", inflated=3 * MiB + 17)
    data = gzip.decompress(path.read_bytes())  # checks the CRC and length too
    assert len(data) == 3 * MiB + 17
    assert json.loads(data)[0][0]["name"] == "A" * (len(data) - 51)


def test_a_million_copies_of_one_app_are_all_accepted(tmp_path: Path):
    path = hostile.million_copies(tmp_path / "ios.top100.json", copies=20_050)
    groups = json.loads(path.read_bytes())
    assert [len(g) for g in groups[-2:]] == [100, 50]
    count, reason, peak = traced_peak(path)
    assert (count, reason) == (20_050, None)
    assert peak < 4 * MiB, peak
    assert all(isinstance(item, Accepted) for item in items_of(path))


def test_a_60_kb_record_passes_the_shape_check_and_is_quarantined(tmp_path: Path):
    path = hostile.repeated_record(tmp_path / "ios.top100.json.gz", size=60_000, copies=40)
    items = list(items_of(path))
    assert len(items) == 40
    assert all(isinstance(i, Quarantined) and i.reason.startswith("missing app_id") for i in items)
    assert 55_000 < len(cast(Quarantined, items[0]).raw) <= 64 * 1024


def test_a_truncated_file_is_refused_as_truncated(tmp_path: Path):
    path = hostile.truncated(tmp_path / "ios.top100.json")
    items = items_of(path)
    assert [type(next(items)) for _ in range(11)] == [Accepted] * 11
    with pytest.raises(
        FileRejected, match=r"^truncated: the file ends after \d+ bytes, after 11 app objects"
    ):
        next(items)


def test_a_file_that_is_one_huge_string_is_refused_at_once(tmp_path: Path):
    path = hostile.huge_string(tmp_path / "ios.top100.json", size=64 * MiB)
    count, reason, peak = traced_peak(path)
    assert (count, reason) == (0, "wrong shape: the top level is a string, expected an array of rank groups "
                                  "(arrays of app objects)")  # fmt: skip
    assert peak < MiB, peak


PEAK_RSS = """
import gzip, re, sys
from pathlib import Path
from ingestion.parsing.records import FileRejected, parse_delivery
try:
    for _ in parse_delivery(gzip.open(sys.argv[1], "rb")):
        pass
except FileRejected:
    pass
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent (pytest) across exec.
print(int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text())[1]) // 1024)
"""


@pytest.mark.parametrize(
    ("write", "size"), [(hostile.empty_objects_group, 8 * MiB), (hostile.gzip_bomb, 10 * 10**9)]
)
def test_the_whole_process_stays_small(tmp_path: Path, write, size):
    # tracemalloc sees Python's allocations only; the kernel's peak RSS sees yajl's and zlib's too.
    path = write(tmp_path / "ios.top100.json.gz", size)
    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, str(path)], capture_output=True, check=True, text=True
    )
    assert int(out.stdout) < 64, f"peak RSS {out.stdout.strip()} MiB"
