"""Delivered JSON values to plain Python values, tolerant of the shapes real deliveries drift between.

Types are not a contract with the data team: a field's type differs between the two platforms' files
and drifts between deliveries. So each converter takes the raw parsed value (strings restored, None
when the key is missing) and returns a :class:`Read`: the value to keep (None when unknown) and, when
the value did not arrive in its canonical shape, the shape it arrived in; or it raises
:class:`BadValue` with that shape and the reason (without the field name: the caller adds it). The
caller decides what a bad value costs: the whole record for identity fields, the field for the rest.

Absent, null and "" mean unknown, and are never drift. Per kind of value, canonical shapes first:

- ids: a positive integer (iOS) or a non-blank string (Android), either on either platform; an
  integral float is its integer (``1.0`` -> "1"), a fraction or a number below 1 is refused.
- text: a string; a number becomes its JSON spelling as parsed (the parser gives an int for ``12`` and
  a float for ``1.0``, so ``12`` -> "12", ``1.0`` -> "1.0", ``2.5`` -> "2.5"; ``2.10`` -> "2.1" was
  lost before it reached us). Text is then repaired and checked by :func:`clean_text`.
- numbers: a JSON number; a numeric string ("4.5", "12") is converted; an integer field takes an
  integral float as its integer and refuses a fraction.
- dates: an ISO-8601 string (a date alone is midnight UTC, no offset means UTC; so "20160706" is a
  date) or epoch seconds as a JSON number. Converted: a numeric string that is not an ISO date, read
  as a number; and epoch milliseconds, which any number from 1e11 on is taken to be (1e11 seconds is
  the year 5138, 1e11 milliseconds is 1973-03-03, long before any app store: no plausible date reads
  both ways).
- flags: a boolean. Converted: the numbers 0 and 1, and the strings "true", "false", "1" and "0" (any
  case, spaces around); anything else ("yes", 2) is refused rather than guessed.

Booleans are never numbers, although Python's bool is an int. A shape is one of :data:`SHAPES`, a small
fixed vocabulary (what arrived, never the value itself), since files are summarised by field and shape.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Generic, NamedTuple, TypeVar
from urllib.parse import urlsplit

from ingestion.parsing.surrogates import Unrepairable, repair_text

T = TypeVar("T")

# Digits only, so float()'s extras ("1_000", "nan", "inf", " 1 ") never pass as numbers.
_NUMERIC = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Numbers from here on are epoch milliseconds, not seconds (see the module docstring).
EPOCH_MILLIS_FROM = 1e11
_FLAG_WORDS = {"true": True, "false": False, "1": True, "0": False}

A_NUMBER = "a number"
A_STRING = "a string"
NUMERIC_STRING = "a numeric string"
OUT_OF_RANGE = "a number out of range"
FRACTION = "a number with a fraction"
EPOCH_MILLIS = "epoch milliseconds"
BAD_DATE = "an unparseable date"
UNREPAIRABLE = "text with unrepairable escapes"
NUL = "text with a NUL character"
TOO_MANY = "an array over 50 entries"


def text_over(cap: int) -> str:
    """The shape of a text longer than `cap` characters (caps are constants, so the set stays small)."""
    return f"text over {cap} characters"


SHAPES = frozenset(
    {"a boolean", A_NUMBER, A_STRING, "an array", "an object", NUMERIC_STRING, OUT_OF_RANGE, FRACTION}
    | {EPOCH_MILLIS, BAD_DATE, UNREPAIRABLE, NUL, TOO_MANY, text_over(2000), text_over(200)}
)


class Read(NamedTuple, Generic[T]):
    """A converted value (None when unknown) and, when it arrived in another shape, that shape."""

    # A NamedTuple: every field of every app makes one, and it is cheaper than a frozen dataclass.

    value: T | None
    drift: str | None = None


class BadValue(ValueError):
    """A value that cannot be used: `shape` names what arrived, the message says what was expected."""

    def __init__(self, shape: str, reason: str) -> None:
        super().__init__(reason)
        self.shape = shape


def show(value: object, limit: int = 80) -> str:
    """A short JSON rendering of `value` for a reason, escapes visible."""
    try:
        text = json.dumps(value, ensure_ascii=True, default=repr)
    except ValueError:  # an int beyond Python's digit limit for str()
        return "a very large number"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind(value: object) -> str:
    """The JSON type of a parsed value, as a reason would name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return A_NUMBER
    if isinstance(value, str):
        return A_STRING
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def identifier(value: object) -> Read[str]:
    """An app or publisher id: a positive integer or a non-blank string, as text."""
    if _blank(value):
        return Read(None)
    if isinstance(value, str):
        return Read(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise BadValue(OUT_OF_RANGE, f"{show(value)} is not a finite number")
        if isinstance(value, float) and not value.is_integer():
            raise BadValue(FRACTION, f"{show(value)} has a fraction (expected an integer or a string)")
        if value <= 0:
            raise BadValue(OUT_OF_RANGE, f"{show(value)} is not positive")
        return Read(_digits(int(value)))
    raise BadValue(kind(value), f"expected an integer or a string, got {kind(value)}")


def text(value: object) -> Read[str]:
    """A text value: a string as delivered, or a number as its JSON spelling (converted)."""
    if value is None or isinstance(value, str):
        return Read(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BadValue(OUT_OF_RANGE, f"{show(value)} is not a finite number")
        return Read(repr(value), A_NUMBER)  # repr is the shortest spelling that reads back the same
    if isinstance(value, int) and not isinstance(value, bool):
        return Read(_digits(value), A_NUMBER)
    raise BadValue(kind(value), f"expected a string, got {kind(value)}")


def string(value: object) -> Read[str]:
    """A string as delivered, where nothing else can stand for one (a URL)."""
    if value is None or isinstance(value, str):
        return Read(value)
    raise BadValue(kind(value), f"expected a string, got {kind(value)}")


def _digits(value: int) -> str:
    try:
        return str(value)
    except ValueError as exc:  # beyond Python's digit limit: no field takes such a number
        raise BadValue(OUT_OF_RANGE, "a number too large to write out") from exc


def clean_text(value: str, cap: int | None) -> tuple[str, str | None]:
    """`value` (restored) repaired, checked and stripped, with the repair's encoding (None if none)."""
    try:
        repaired, encoding = repair_text(value)
    except Unrepairable as exc:
        raise BadValue(UNREPAIRABLE, f"{show(value)}: {exc}") from exc
    if "\x00" in repaired:
        raise BadValue(NUL, "contains a NUL character")
    repaired = repaired.strip()
    if cap is not None and len(repaired) > cap:
        raise BadValue(text_over(cap), f"{len(repaired)} characters long (at most {cap})")
    return repaired, encoding


def _numeric(value: object, what: str) -> Read[float | int]:
    """A number or a numeric string, unchecked; None for unknown."""
    if _blank(value):
        return Read(None)
    if isinstance(value, str):
        text = value.strip()
        # The length bound keeps int() away from its digit limit (a ValueError of its own).
        if len(text) > 40 or not _NUMERIC.fullmatch(text):
            raise BadValue(A_STRING, f"{show(value)} is not {what}")
        return Read(int(text) if text.lstrip("+-").isdigit() else float(text), NUMERIC_STRING)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Read(value)
    raise BadValue(kind(value), f"expected {what}, got {kind(value)}")


def number(value: object, *, low: float, high: float) -> Read[float]:
    """A number within [low, high]; numeric strings are converted."""
    read = _numeric(value, "a number")
    if read.value is None:
        return Read(None)
    try:
        parsed = float(read.value)
    except OverflowError:  # an int too large for a float
        parsed = math.inf
    if not low <= parsed <= high:  # False for NaN too
        raise BadValue(OUT_OF_RANGE, f"{show(value)} is not a number from {_plain(low)} to {_plain(high)}")
    return Read(parsed, read.drift)


def integer(value: object, *, low: int, high: int) -> Read[int]:
    """An integer within [low, high]; numeric strings and integral floats are converted."""
    read = _numeric(value, "an integer")
    parsed = read.value
    if parsed is None:
        return Read(None)
    if isinstance(parsed, float):
        if not math.isfinite(parsed):
            raise BadValue(OUT_OF_RANGE, f"{show(value)} is not a finite number")
        if not parsed.is_integer():
            raise BadValue(FRACTION, f"{show(value)} is not an integer")
        parsed = int(parsed)
    if not low <= parsed <= high:
        raise BadValue(OUT_OF_RANGE, f"{show(value)} is not an integer from {low} to {high}")
    return Read(parsed, read.drift)


def _plain(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else f"{limit:g}"


def flag(value: object) -> Read[bool]:
    """A boolean; 0, 1 and the words true, false, 1 and 0 are converted."""
    if _blank(value):
        return Read(None)
    if isinstance(value, bool):
        return Read(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _FLAG_WORDS:
            return Read(_FLAG_WORDS[word], A_STRING)
        raise BadValue(A_STRING, f'{show(value)} is not true, false, 1, 0 or ""')
    if _is_number(value):
        if value in (0, 1):
            return Read(value == 1, A_NUMBER)
        raise BadValue(OUT_OF_RANGE, f"{show(value)} is not 0 or 1")
    raise BadValue(kind(value), f"expected a boolean, got {kind(value)}")


def timestamp(value: object) -> Read[datetime]:
    """A tz-aware UTC datetime from an ISO-8601 string or epoch seconds (or milliseconds)."""
    if _blank(value):
        return Read(None)
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
            return Read(parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC))
        except (ValueError, OverflowError):
            pass  # perhaps epoch seconds written as a string
        if len(text) > 40 or not _NUMERIC.fullmatch(text):
            raise BadValue(BAD_DATE, f"{show(value)} is not an ISO-8601 date or epoch seconds")
        read = _epoch(float(text))
        return Read(read.value, read.drift or NUMERIC_STRING)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _epoch(value)
    raise BadValue(kind(value), f"expected an ISO-8601 date or epoch seconds, got {kind(value)}")


def _epoch(value: float) -> Read[datetime]:
    millis = value >= EPOCH_MILLIS_FROM
    try:
        parsed = datetime.fromtimestamp(value / 1000 if millis else value, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise BadValue(OUT_OF_RANGE, f"{show(value)} is not a date's epoch seconds") from exc
    return Read(parsed, EPOCH_MILLIS if millis else None)


def is_web_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace or control characters."""
    # isprintable() is False for every whitespace character but the ASCII space.
    if " " in value or not value.isprintable():
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)
