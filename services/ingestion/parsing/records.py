"""One delivered file to game records: stream it, check its shape, repair and validate every app.

A delivery is a JSON array of rank groups; each group is an array of app objects, one per store chart at
that rank, so the same app recurs. :func:`parse_delivery` streams it with ijson (the yajl2_c backend),
building one element of one group at a time, and yields, in file order, an :class:`Accepted` or a
:class:`Quarantined` for every element of every group; `position` counts those elements from 0 across
groups.

Memory is bounded whatever the file: groups may be of any size, since only one element is built at a
time, and :class:`~ingestion.parsing.structure.ShapeGuard` refuses, on the bytes and before ijson builds
it, any element, string or number larger than 1 MiB of JSON (real app objects are a few KB; parsed, a value
costs up to ~25 times its JSON; the guard may see that up to 128 KiB late) and nesting deeper than 64.
So the parser holds a few tens of MiB at most. The file's decompressed size and gzip ratio are bounded
upstream, by :class:`ingestion.sources.s3.S3Source`.

- The file fails as a whole (:class:`FileRejected`, raised as soon as the bytes prove it) when it is
  empty, not JSON, truncated, followed by trailing data, or of the wrong shape: the top level is not an
  array, a group is an object, a value is too large or too deep (see above), or no group holds any
  element although the array is not just empty groups (``[1, 2]``). The caller publishes nothing of
  such a file. A group that is a string or number among real groups is skipped, not refused: seeing it
  would cost a look at every byte outside strings.
- An element is quarantined with a precise reason, and the rest goes on, when it is not an object, is
  empty, or has problems :class:`ingestion.parsing.app_record.AppReader` finds (several joined with "; ");
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

from ingestion.parsing import values
from ingestion.parsing.app_record import AppReader, Drift, GameRecord, Repair
from ingestion.parsing.structure import ShapeGuard, WrongShape
from ingestion.parsing.surrogates import ShieldedStream, restore_deep

__all__ = ["Accepted", "Drift", "FileRejected", "GameRecord", "Quarantined", "Repair", "parse_delivery"]

MAX_RAW = 64 * 1024


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


class IntegerTooLarge(FileRejected):
    """The C parser met an integer beyond 64 bits (a 20-digit id, say): parse again with `exact_numbers`."""


# ijson's pure-Python backend reads integers of any size, at a fraction of the C backend's speed.
_EXACT = ijson.get_backend("python")


def parse_delivery(stream: BinaryIO, *, exact_numbers: bool = False) -> Iterator[Accepted | Quarantined]:
    """Every element of a delivered file, in order, accepted or quarantined; FileRejected if broken.

    The C parser refuses integers beyond 64 bits with IntegerTooLarge; `exact_numbers` reads them (as
    Python ints, which the reader then takes as ids or drops as out of range), more slowly.
    """
    shield = ShieldedStream(stream)
    guard = ShapeGuard(shield)
    # One element at a time, built by the C backend (several times faster than routing every event
    # through Python); the guard has refused, before ijson read it, any element too large to build.
    backend = _EXACT if exact_numbers else ijson
    elements = backend.items(guard, "item.item", use_float=True)
    position = 0
    while True:
        try:
            element = next(elements)
        except StopIteration:
            break
        except WrongShape as exc:
            where = "" if exc.offset is None else f" (near byte {exc.offset}, after {position} app objects)"
            raise FileRejected(f"wrong shape: {exc.reason}{where}") from exc
        # The exact (pure-Python) backend reports a bad string with json's own JSONDecodeError.
        except (ijson.JSONError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            reason = _describe(exc, shield, guard, position)
            if "integer overflow" in reason and not exact_numbers:
                raise IntegerTooLarge(reason) from exc
            raise FileRejected(reason) from exc
        yield _judge(position, element)
        position += 1
    if not position and not guard.bare:
        raise FileRejected(
            "wrong shape: the file holds no app object, yet it is not an empty array or empty groups: "
            "expected an array of rank groups (arrays of app objects)"
        )


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


def _describe(exc: Exception, shield: ShieldedStream, guard: ShapeGuard, position: int) -> str:
    """The reason for a parser error after `position` app objects."""
    consumed = shield.consumed
    where = f"after {position} app objects"
    if not shield.saw_content:
        return "empty file: no JSON at all"
    if isinstance(exc, UnicodeDecodeError):
        return f"invalid UTF-8 before byte {consumed} ({where}): {exc.reason}"
    message = exc.args[0] if exc.args else ""
    if isinstance(exc, json.JSONDecodeError):  # its line and column count within one string, not the file
        message = exc.msg.removesuffix(" at")
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    lines = text.splitlines() or [""]
    problem = lines[0].strip().rstrip(".")
    near = f" near {values.show(lines[1].strip(), 60)}" if len(lines) > 1 and lines[1].strip() else ""
    if "premature EOF" in problem:
        return f"truncated: the file ends after {consumed} bytes, {where}"
    if "trailing garbage" in problem:
        return f"trailing data after the top-level array, before byte {consumed}{near}"
    if guard.first != ord("["):
        return f"not JSON: {problem}, at the start of the file{near}"
    return f"not valid JSON: {problem}, before byte {consumed} ({where}){near}"
