"""One delivered file to game records: stream it, check its shape, repair and validate every app.

A delivery is a JSON array of rank groups; each group is an array of app objects, one per store chart at
that rank, so the same app recurs. :func:`parse_delivery` streams it with ijson (the yajl2_c backend),
holding one rank group at a time (at most 32 MiB of JSON), and yields, in file order, an
:class:`Accepted` or a :class:`Quarantined` for every element of every group; `position` counts those
elements from 0 across groups.

- The file fails as a whole (:class:`FileRejected`, raised as soon as the bytes prove it) when it is
  empty, not JSON, truncated, followed by trailing data, or of the wrong shape (the top level is not an
  array, one of its items is not an array, or a group exceeds 32 MiB). The caller publishes nothing
  of such a file.
- An element is quarantined with a precise reason, and the rest goes on, when it is not an object, is
  empty, or has problems :class:`ingestion.app_reader.AppReader` finds (several joined with "; ");
  otherwise it is accepted with the repairs the reader made, each under the delivered field's name.

Deduplication is not done here: the catalog's import keeps one game per (platform, store_id), with its
best (lowest) rank, in bounded memory, so this module stays a pure streaming transform.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import ijson

from ingestion import values
from ingestion.app_reader import AppReader, Drift, GameRecord, Repair
from ingestion.repair import ShieldedStream, restore_deep

__all__ = ["Accepted", "Drift", "FileRejected", "GameRecord", "Quarantined", "Repair", "parse_delivery"]

MAX_RAW = 64 * 1024
# A rank group holds one app per store chart, some KB each; a group this large is not the format.
MAX_GROUP_BYTES = 32 * 2**20


@dataclass(frozen=True)
class Accepted:
    """A good element of the file, with the repairs it needed."""

    position: int
    record: GameRecord
    repairs: tuple[Repair, ...]
    drift: tuple[Drift, ...] = ()


@dataclass(frozen=True)
class Quarantined:
    """A bad element of the file: the element as JSON text (capped at 64 KiB) and why it was refused."""

    position: int
    raw: str
    reason: str


class FileRejected(Exception):
    """The whole file is unusable; `reason` says why and roughly where."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_delivery(stream: BinaryIO) -> Iterator[Accepted | Quarantined]:
    """Every element of a delivered file, in order, accepted or quarantined; FileRejected if broken."""
    meter = _Meter(ShieldedStream(stream))
    # One rank group at a time: the C backend builds it, which is several times faster than routing
    # every event through Python; the meter bounds a group's size, so memory stays flat.
    groups = ijson.items(meter, "item", use_float=True)
    position = 0
    while True:
        try:
            group = next(groups)
        except StopIteration:
            return
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise FileRejected(meter.describe(exc, position)) from exc
        if not isinstance(group, list):
            raise FileRejected(
                f"wrong shape: group {meter.groups} (before byte {meter.shield.consumed}, after {position} "
                f"app objects) is {values.kind(group)}, expected an array of app objects"
            )
        meter.next_group()
        for element in group:
            yield _judge(position, element)
            position += 1


def _judge(position: int, element: object) -> Accepted | Quarantined:
    """The verdict on one parsed element of a group (strings still carrying the parser's marker)."""
    if not isinstance(element, dict):
        return Quarantined(position, _raw(element), f"not an object: {values.kind(element)}")
    if not element:
        return Quarantined(position, "{}", "empty record")
    reader = AppReader(element)
    record = reader.record()
    if reader.problems:
        return Quarantined(position, _raw(element), "; ".join(reader.problems))
    return Accepted(position, record, tuple(reader.repairs), tuple(reader.drift))


def _raw(element: object) -> str:
    # ensure_ascii keeps lone surrogates as \udcXX escapes, exactly as delivered.
    text = json.dumps(restore_deep(element), ensure_ascii=True)
    if len(text) <= MAX_RAW:
        return text
    marker = f"...[truncated: {len(text)} characters in all]"
    return text[: MAX_RAW - len(marker)] + marker


_TOP_LEVEL = {ord("{"): "an object", ord('"'): "a string", ord("t"): "a boolean", ord("f"): "a boolean"}
_TOP_LEVEL |= {ord("n"): "null"} | {c: "a number" for c in b"-0123456789"}


class _Meter:
    """Feeds the parser, refusing a wrong top level and an oversized group before building them."""

    def __init__(self, shield: ShieldedStream) -> None:
        self.shield = shield
        self.groups = 0  # groups parsed whole
        self.first = 0  # the first non-whitespace byte, 0 until seen
        self._group_start = 0

    def read(self, size: int = -1) -> bytes:
        """The shield's next bytes, checked."""
        data = self.shield.read(size)
        if not self.first and (text := data.lstrip()):
            self.first = text[0]
            # Parsed as items of "item", a top-level object would silently yield its "item" member.
            shape = _TOP_LEVEL.get(self.first)
            if shape is not None:
                raise FileRejected(
                    f"wrong shape: the top level is {shape}, expected an array of rank groups "
                    "(arrays of app objects)"
                )
        if self.shield.consumed - self._group_start > MAX_GROUP_BYTES:
            raise FileRejected(
                f"group {self.groups} is larger than {MAX_GROUP_BYTES / 2**20:g} MiB (from byte "
                f"{self._group_start}); a rank group holds one app per store chart"
            )
        return data

    def next_group(self) -> None:
        """A group was parsed whole: the next one starts its byte budget now."""
        self.groups += 1
        self._group_start = self.shield.consumed

    def describe(self, exc: Exception, position: int) -> str:
        """The reason for a parser error after `position` app objects."""
        consumed = self.shield.consumed
        where = f"after {self.groups} groups and {position} app objects"
        if not self.shield.saw_content:
            return "empty file: no JSON at all"
        if isinstance(exc, UnicodeDecodeError):
            return f"invalid UTF-8 before byte {consumed} ({where}): {exc.reason}"
        message = exc.args[0] if exc.args else ""
        text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
        lines = text.splitlines() or [""]
        problem = lines[0].strip().rstrip(".")
        near = f" near {values.show(lines[1].strip(), 60)}" if len(lines) > 1 and lines[1].strip() else ""
        if "premature EOF" in problem:
            return f"truncated: the file ends after {consumed} bytes, {where}"
        if "trailing garbage" in problem:
            return f"trailing data after the top-level array, before byte {consumed}{near}"
        if self.first != ord("["):
            return f"not JSON: {problem}, at the start of the file{near}"
        return f"not valid JSON: {problem}, before byte {consumed} ({where}){near}"
