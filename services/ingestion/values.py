"""Delivered JSON values to plain Python values: lenient where the data team is sloppy but unambiguous.

Each converter takes the raw parsed value (None when the key is missing) and returns the value to keep,
or raises :class:`BadValue` with the reason, without the field name (the caller adds it). Numbers may
arrive as numeric strings ("4.5", "12"), and "" means unknown for numbers, dates and flags. Dates are
ISO-8601 strings (a date alone is midnight UTC, no offset means UTC) or epoch seconds as JSON numbers.
Booleans are never numbers, although Python's bool is an int.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

# Digits only, so float()'s extras ("1_000", "nan", "inf", " 1 ") never pass as numbers.
_NUMERIC = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class BadValue(ValueError):
    """A value of the wrong type or out of range; the message says what was expected."""


def show(value: object, limit: int = 80) -> str:
    """A short JSON rendering of `value` for a reason, escapes visible."""
    text = json.dumps(value, ensure_ascii=True, default=repr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def kind(value: object) -> str:
    """The JSON type of a parsed value, as a reason would name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def identifier(value: object) -> str | None:
    """An app or publisher id: a positive integer (iOS) or a non-blank string (Android); None if absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            raise BadValue(f"{show(value)} has a fraction (expected an integer or a string)")
        if value <= 0:
            raise BadValue(f"{show(value)} is not positive")
        return str(int(value))
    raise BadValue(f"expected an integer or a string, got {kind(value)}")


def number(value: object, *, low: float, high: float, integer: bool = False) -> float | int | None:
    """A number within [low, high] (an int when `integer`); numeric strings count; None or "" is None."""
    what = "an integer" if integer else "a number"
    expected = f"{what} from {_plain(low)} to {_plain(high)}"
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        # The length bound keeps int() away from its digit limit (a ValueError of its own).
        if len(text) > 40 or not _NUMERIC.fullmatch(text):
            raise BadValue(f"{show(value)} is not {what}")
        parsed: float | int = int(text) if text.lstrip("+-").isdigit() else float(text)
    elif value is None:
        return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parsed = value
    else:
        raise BadValue(f"expected {what}, got {kind(value)}")
    if isinstance(parsed, float):
        if not math.isfinite(parsed):
            raise BadValue(f"{show(value)} is not {expected}")
        if integer:
            if not parsed.is_integer():
                raise BadValue(f"{show(value)} is not {what}")
            parsed = int(parsed)
    if not low <= parsed <= high:
        raise BadValue(f"{show(value)} is out of range (expected {expected})")
    return parsed


def _plain(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else f"{limit:g}"


def flag(value: object) -> bool | None:
    """A boolean; None or "" (the data team's "unknown") is None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    raise BadValue(f'{show(value)} is not true, false or ""')


def timestamp(value: object) -> datetime | None:
    """A tz-aware UTC datetime from an ISO-8601 string or epoch seconds; None or "" is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip())
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise BadValue(f"{show(value)} is not an ISO-8601 date or epoch seconds") from exc
    raise BadValue(f"expected an ISO-8601 date or epoch seconds, got {kind(value)}")


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
