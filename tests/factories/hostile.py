"""Hostile delivery files: each function streams one to `path` (never building it in memory) and returns it.

They are what ingestion must survive in bounded memory (docs/ingestion.md, "The files": files far larger than
memory, gzip, truncated, simply wrong): the memory tests parse them, and bench/hostile.py runs each
through `ingestion run-once` for its peak RSS. A path ending in ``.gz`` gets gzip, except for the bomb,
which is gzip by nature.
"""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from tests.factories.deliveries import app, delivery

_MiB = 2**20
# Fields of a real app object (tests/factories/deliveries.py), few enough to make a small one.
_SMALL_FIELDS = ("app_id", "os", "name", "publisher_id", "publisher_name", "bundle_id", "rank", "rating")


@contextmanager
def _writer(path: Path) -> Iterator[BinaryIO]:
    # Level 9: these files are about repetition, and their compressed size is part of the point.
    with gzip.open(path, "wb", compresslevel=9) if path.name.endswith(".gz") else path.open("wb") as out:
        yield out  # type: ignore[misc]  # GzipFile writes like BinaryIO


def _repeat(out: BinaryIO, piece: bytes, copies: int, *, batch: int = 4 * _MiB) -> None:
    """Write `piece` `copies` times, a few MiB per write."""
    per_write = max(1, batch // max(1, len(piece)))
    while copies > 0:
        n = min(copies, per_write)
        out.write(piece * n)
        copies -= n


def empty_objects_group(path: Path, size: int = 31 * _MiB) -> Path:
    """One rank group of `size` bytes of ``{}`` (a ~40 KB .json.gz): each costs ~25 times its JSON built.

    Under the old per-group parser this took ~750 MiB; every element is an empty record, quarantined.
    """
    with _writer(path) as out:
        out.write(b"[[{}")
        _repeat(out, b",{}", (size - 6) // 3)
        out.write(b"]]")
    return path


def gzip_bomb(path: Path, inflated: int = 10 * 10**9) -> Path:
    """A .json.gz inflating to `inflated` bytes: one app object whose name is a string of "A"s.

    Deflate cannot beat ~1030:1, so 10 GB takes ~10 MB. It is written in a second or two: a 1 MiB run
    of "A" is compressed once between two full flushes (which reset the window, so the same input gives
    the same bytes anywhere) and that block repeated; the CRC is combined, not computed over 10 GB.
    """
    head = b'[[{"app_id": 1100000001, "os": "ios", "name": "'
    tail = b'"}]]'
    unit = b"A" * _MiB
    copies, rest = divmod(max(0, inflated - len(head) - len(tail)), len(unit))
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(head) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(unit) + deflate.flush(zlib.Z_FULL_FLUSH)
    last_input = b"A" * rest + tail
    last = deflate.compress(last_input) + deflate.flush()
    crc = zlib.crc32(head)
    crc = _crc32_combine(crc, _crc32_repeated(zlib.crc32(unit), len(unit), copies), copies * len(unit))
    crc = _crc32_combine(crc, zlib.crc32(last_input), len(last_input))
    total = len(head) + copies * len(unit) + len(last_input)
    with path.open("wb") as out:
        # The gzip header: magic, deflate, no flags, mtime 0, best compression, unknown OS.
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first)
        _repeat(out, block, copies)
        out.write(last + struct.pack("<II", crc, total & 0xFFFFFFFF))
    return path


def million_copies(path: Path, copies: int = 1_000_000) -> Path:
    """One small valid app object `copies` times, in rank groups of 100: all accepted, one game in all."""
    record = {field: app(1)[field] for field in _SMALL_FIELDS}
    element = json.dumps(record).encode()
    full, rest = divmod(copies, 100)
    groups = [100] * full + ([rest] if rest else [])
    with _writer(path) as out:
        out.write(b"[")
        for n, size in enumerate(groups):
            out.write((b",[" if n else b"[") + b",".join([element] * size) + b"]")
        out.write(b"]")
    return path


def repeated_record(path: Path, size: int = 60_000, copies: int = 1_000) -> Path:
    """One ~`size`-byte app object without app_id, `copies` times in groups of 3: each one quarantined.

    60 KB is ten times a real record, well under the 1 MiB bound of one element: it must pass the
    shape check and be quarantined ("missing app_id") with its raw JSON capped at 64 KiB.
    """
    record = app(1)
    del record["app_id"]
    padding = size - len(json.dumps(record).encode())
    record["description"] += "x" * max(0, padding)
    element = json.dumps(record).encode()
    with _writer(path) as out:
        out.write(b"[")
        for n in range(copies):
            out.write((b"" if n == 0 else b"]," if n % 3 == 0 else b",") + (b"[" if n % 3 == 0 else b""))
            out.write(element)
        out.write(b"]]" if copies else b"]")
    return path


def truncated(path: Path) -> Path:
    """A valid delivery of 4 rank groups cut in the middle of its last app object (a broken upload)."""
    data = delivery([[app(rank * 3 + chart, rank=rank + 1) for chart in range(3)] for rank in range(4)])
    cut = data.rindex(b'"name"')
    with _writer(path) as out:
        out.write(data[:cut])
    return path


def huge_string(path: Path, size: int = 256 * _MiB) -> Path:
    """The whole file is one JSON string of `size` bytes: the wrong top level, refused at its first byte."""
    with _writer(path) as out:
        out.write(b'"')
        _repeat(out, b"A", max(0, size - 2))
        out.write(b'"')
    return path


def _crc32_repeated(crc: int, length: int, copies: int) -> int:
    """The CRC-32 of `copies` copies of a `length`-byte piece whose CRC-32 is `crc`, by doubling."""
    result = 0
    while copies:
        if copies & 1:
            result = _crc32_combine(result, crc, length)
        crc = _crc32_combine(crc, crc, length)
        length *= 2
        copies >>= 1
    return result


def _crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A + B from those of A and B and B's length (zlib's crc32_combine, not in Python's)."""
    if length2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four
    while True:
        even = _gf2_square(odd)  # a zero byte, then doubling
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return crc1 ^ crc2


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, row) for row in matrix]
