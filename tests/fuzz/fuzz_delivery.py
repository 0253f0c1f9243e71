"""Fuzz parse_delivery with atheris: whatever the bytes and however they come, only FileRejected escapes.

Run it for a while (libFuzzer's flags pass through; the seeds below are used when no corpus is given):

    .venv/bin/python -m tests.fuzz.fuzz_delivery -max_total_time=120

`one_input` is also run over the seeds by tests/fuzz/test_fuzz_delivery.py, so it stays in `make test`.
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from tests.factories.deliveries import app, delivery, dirty_delivery

with_atheris = "atheris" in sys.modules or __name__ == "__main__"
if with_atheris:
    import atheris

    with atheris.instrument_imports(include=["ingestion"]):
        from ingestion.records import FileRejected, parse_delivery
else:
    from ingestion.records import FileRejected, parse_delivery


class _Chunked(io.BytesIO):
    """Reads of `size` bytes at most, so that chunks end anywhere."""

    def __init__(self, data: bytes, size: int) -> None:
        super().__init__(data)
        self._size = size

    def read(self, size: int | None = -1) -> bytes:
        return super().read(self._size)


def one_input(data: bytes) -> None:
    """Parse `data` as a delivery read `data[0]` bytes at a time; anything but FileRejected escapes."""
    if not data:
        return
    stream = _Chunked(data[1:], max(1, data[0]) if data[0] < 255 else 64 * 1024)
    try:
        for _ in parse_delivery(stream):
            pass
    except FileRejected:
        pass


def seeds() -> list[bytes]:
    """A small corpus: good deliveries, dirty ones, and each kind of broken or wrong one."""
    dirty, _ = dirty_delivery()
    good = delivery([[app(1, name='Q"[{\\u005d'), app(2, description="x\\n" * 50)], []])
    raw = [
        dirty,
        good,
        good[: len(good) // 2],
        b"[]",
        b"[[]]",
        b"[1, 2]",
        b'[{"item": {"app_id": 1}}]',
        b'[[{"a": "\\udc8e\\ud83c\\udfae\\\\", "b": [[[[]]]]}], {"c": 1}]',
        b"[" * 100,
        b'[["\\\\\\"]", "]\\"[", 1e999, -0, 9223372036854775808]]',
        b"\xef\xbb\xbf[[\xff]]",
        b'"' + b"[" * 50,
        b'[[1, \\"], {"c": 0}]',  # a backslash outside a string: once an AssertionError in the guard
    ]
    return [bytes([size]) + data for data in raw for size in (1, 7, 255)]


def main() -> None:
    """Fuzz until libFuzzer stops (-max_total_time, -runs) or finds an input that breaks the contract."""
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="fuzz-delivery-"))
        for n, seed in enumerate(seeds()):
            (corpus / f"seed-{n}").write_bytes(seed)
        argv.append(str(corpus))
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
