"""Fuzz target: a delivered file's bytes, parsed and repaired as ingestion does; only FileRejected escapes.

`one_input` reads `data[1:]` as a delivery `data[0]` bytes at a time (so chunks end anywhere: inside an
escape, a number, a multi-byte character), through `parse_delivery` (the repair shield, the shape guard,
ijson, the app reader and the value converters), and again with exact numbers when the fast parser
meets an integer beyond 64 bits, as the importer does. Each accepted record must become a catalog Game
(`game_from_record`), positions must count every element from 0, and a quarantined element must carry
its reason and at most 64 KiB of raw text.

Run by `make fuzz` (tests/fuzz/campaign.py); tests/fuzz/test_corpus.py replays the kept corpus.
"""

from __future__ import annotations

import gzip
import io
import json
import tempfile
from pathlib import Path

from ingestion.importing.catalog_game import game_from_record
from ingestion.parsing.records import MAX_RAW, Accepted, FileRejected, IntegerTooLarge, parse_delivery
from tests.factories import hostile
from tests.factories.deliveries import app, delivery
from tests.factories.dirty import dirty_delivery

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "deploy" / "local" / "sample-data"


class _Chunked(io.BytesIO):
    """Reads of `size` bytes at most, so that chunks end anywhere."""

    def __init__(self, data: bytes, size: int) -> None:
        super().__init__(data)
        self._size = size

    def read(self, size: int | None = -1) -> bytes:
        return super().read(self._size)


def _parse(data: bytes, chunk: int, exact_numbers: bool) -> None:
    for position, item in enumerate(parse_delivery(_Chunked(data, chunk), exact_numbers=exact_numbers)):
        assert item.position == position, (item.position, position)
        if isinstance(item, Accepted):
            game_from_record(item.record)
        else:
            assert item.reason, item
            assert len(item.raw) <= MAX_RAW, len(item.raw)


def one_input(data: bytes) -> None:
    """Parse `data[1:]` read `data[0]` bytes at a time; anything but FileRejected escapes."""
    if not data:
        return
    chunk = max(1, data[0]) if data[0] < 255 else 64 * 1024
    try:
        try:
            _parse(data[1:], chunk, exact_numbers=False)
        except IntegerTooLarge:
            _parse(data[1:], chunk, exact_numbers=True)
    except FileRejected:
        pass


def _sample_apps(path: Path, count: int = 4) -> bytes:
    """A few app objects of a sample delivery: its first ones and those carrying escapes to repair."""
    raw = path.read_bytes()
    groups = json.loads(gzip.decompress(raw) if path.name.endswith(".gz") else raw)
    apps = [element for group in groups for element in group]
    dirty = [a for a in apps if "\\udc" in json.dumps(a) or not isinstance(a, dict) or len(a) < 5]
    chosen = apps[:count] + dirty[:count]
    # ensure_ascii writes lone surrogates back as the \udcXX escapes the file had.
    return json.dumps([chosen[: len(chosen) // 2], chosen[len(chosen) // 2 :]]).encode()


def _hostile(make: object, **sizes: int) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "delivery.json"
        make(path, **sizes)  # type: ignore[operator]
        return path.read_bytes()


def seeds() -> list[bytes]:
    """Real sample deliveries (a few apps of each), dirty and hostile ones in small, broken ones."""
    dirty, _ = dirty_delivery()
    good = delivery([[app(1, name='Q"[{\\u005d'), app(2, description="x\\n" * 50)], []])
    raw = [
        *(_sample_apps(path) for path in sorted(SAMPLE_DATA.glob("*/*.json*"))),
        dirty,
        good,
        good[: len(good) // 2],
        _hostile(hostile.empty_objects_group, size=600),
        _hostile(hostile.million_copies, copies=30),
        _hostile(hostile.repeated_record, size=3000, copies=4),
        _hostile(hostile.truncated),
        _hostile(hostile.huge_string, size=300),
        b"[]",
        b"[[]]",
        b"[1, 2]",
        b'[{"item": {"app_id": 1}}]',
        b'[[{"a": "\\udc8e\\ud83c\\udfae\\\\", "b": [[[[]]]]}], {"c": 1}]',
        b"[" * 100,
        b'[["\\\\\\"]", "]\\"[", 1e999, -0, 9223372036854775808]]',
        b'[[{"app_id": 123456789012345678901234567890, "os": "ios", "name": "Big"}]]',
        b"\xef\xbb\xbf[[\xff]]",
        b'"' + b"[" * 50,
        b'[[1, \\"], {"c": 0}]',  # a backslash outside a string: once an AssertionError in the guard
    ]
    # Each read size for the small ones; the large ones in 7-byte reads only, to keep the corpus small.
    return [bytes([size]) + data for data in raw for size in ((1, 7, 255) if len(data) < 2000 else (7,))]
