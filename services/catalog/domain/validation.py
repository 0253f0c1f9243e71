"""Input checks of the catalog: every violation at once, named by GameFields attribute.

The limits keep rows reasonable and refuse what PostgreSQL would reject anyway (NUL characters), so
bad input fails as INVALID_ARGUMENT before any SQL runs.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from catalog.model import MUTABLE_FIELDS, GameFields, ImportSource
from gamekit.errors import FieldViolation, InvalidArgument

MAX_NAME = 500
MAX_STORE_ID = 200
MAX_TEXT = 2000
MAX_URI = 2048
MAX_CATEGORIES = 50
MAX_CATEGORY = 200
MAX_QUERY = 200
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
# S3's own limits, in UTF-8 bytes (version ids and ETags are far shorter in practice); together they also
# keep an import's row in its unique source index and in any page of ListImports.
MAX_SOURCE_BYTES = {"bucket": 63, "key": 1024, "etag": 256, "version_id": 1024}
# A search key shorter than a trigram is refused; so is one in which pg_trgm finds no trigram, for then
# the index has nothing to look up and the search reads every name.
MIN_QUERY = 3

_TEXT_FIELDS = ("bundle_id", "publisher_id", "publisher_name", "app_version")
_URI_FIELDS = ("icon_uri", "store_uri")


def _text(name: str, value: str, limit: int, out: list[FieldViolation]) -> None:
    if len(value) > limit:
        out.append(FieldViolation(name, f"must be at most {limit} characters"))
    elif "\x00" in value:
        out.append(FieldViolation(name, "must not contain NUL characters"))


def _uri(name: str, value: str, out: list[FieldViolation]) -> None:
    before = len(out)
    _text(name, value, MAX_URI, out)
    if value and len(out) == before:
        try:
            parts = urlsplit(value)
        except ValueError:  # an unclosed IPv6 bracket, a bad port
            out.append(FieldViolation(name, "must be an http or https URL"))
            return
        if parts.scheme not in ("http", "https") or not parts.netloc:
            out.append(FieldViolation(name, "must be an http or https URL"))


def _number(name: str, value: float | None, low: float, high: float, out: list[FieldViolation]) -> None:
    if value is not None and (not math.isfinite(value) or not low <= value <= high):
        out.append(FieldViolation(name, f"must be between {low:g} and {high:g}"))


def _time(name: str, value: datetime | None, out: list[FieldViolation]) -> None:
    if value is not None and value.utcoffset() is None:
        out.append(FieldViolation(name, "must carry a time zone"))


def field_violations(fields: GameFields) -> list[FieldViolation]:
    """Every problem with a game's fields, named by attribute (`display_name`)."""
    out: list[FieldViolation] = []
    if not fields.display_name.strip():
        out.append(FieldViolation("display_name", "is required"))
    else:
        _text("display_name", fields.display_name, MAX_NAME, out)
    if not fields.store_id.strip():
        out.append(FieldViolation("store_id", "is required"))
    else:
        _text("store_id", fields.store_id, MAX_STORE_ID, out)
    for name in _TEXT_FIELDS:
        _text(name, getattr(fields, name), MAX_TEXT, out)
    for name in _URI_FIELDS:
        _uri(name, getattr(fields, name), out)
    if len(fields.categories) > MAX_CATEGORIES:
        out.append(FieldViolation("categories", f"must have at most {MAX_CATEGORIES} entries"))
    for i, category in enumerate(fields.categories[:MAX_CATEGORIES]):
        _text(f"categories[{i}]", category, MAX_CATEGORY, out)
    _number("rating", fields.rating, 0, 5, out)
    _number("rating_count", fields.rating_count, 0, MAX_INT64, out)
    _number("price", fields.price, 0, 1e9, out)
    _number("best_rank", fields.best_rank, 1, MAX_INT32, out)
    _time("release_time", fields.release_time, out)
    _time("store_update_time", fields.store_update_time, out)
    return out


def validate_fields(fields: GameFields) -> None:
    """Raise InvalidArgument listing every bad field."""
    violations = field_violations(fields)
    if violations:
        raise InvalidArgument(violations)


def validate_update(values: GameFields, paths: Iterable[str]) -> None:
    """Check the mask (non-empty, only mutable fields) and the values of the fields it names."""
    paths = frozenset(paths)
    if not paths:
        raise InvalidArgument.field("update_mask", "name at least one field to change")
    unknown = sorted(paths - MUTABLE_FIELDS)
    if unknown:
        raise InvalidArgument.field(
            "update_mask", f"these fields cannot be updated: {', '.join(unknown)[:500]}"
        )
    masked = [v for v in field_violations(values) if v.field.split("[")[0] in paths]
    if masked:
        raise InvalidArgument(masked)


def validate_batch(batch: list[GameFields], *, batch_number: int) -> None:
    """Raise InvalidArgument naming `batch.games[i].field` for every bad game of an import batch."""
    violations = [
        FieldViolation(f"batch.games[{i}].{v.field}", v.description)
        for i, game in enumerate(batch)
        for v in field_violations(game)
    ]
    if violations:
        raise InvalidArgument(
            violations[:100], message=f"batch {batch_number} of the import has invalid games"
        )


def validate_source(source: ImportSource) -> None:
    """Refuse an import source S3 could not have named, field by field."""
    out: list[FieldViolation] = []
    for name, limit in MAX_SOURCE_BYTES.items():
        value: str = getattr(source, name)
        if len(value.encode()) > limit:
            out.append(FieldViolation(f"header.source.{name}", f"must be at most {limit} bytes of UTF-8"))
        elif "\x00" in value:
            out.append(FieldViolation(f"header.source.{name}", "must not contain NUL characters"))
    if out:
        raise InvalidArgument(out)


def request_id(value: str) -> uuid.UUID:
    """The request id of a create, which must be a UUID."""
    if not value:
        raise InvalidArgument.field("request_id", "is required (a UUID)")
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidArgument.field("request_id", "must be a UUID") from exc


def search_query(query: str) -> str:
    """The raw query, refused when absurdly long or carrying NUL characters."""
    out: list[FieldViolation] = []
    _text("query", query, MAX_QUERY, out)
    if out:
        raise InvalidArgument(out)
    return query


def _has_trigram(key: str) -> bool:
    """Whether pg_trgm finds a trigram in `LIKE '%key%'`, as its generate_wildcard_trgm does.

    Only words (runs of letters and digits) count; a word gets two blanks of padding before it when
    something other than the wildcard precedes it, and one after it when something follows, so `abc`,
    `ab!` and `!a` have a trigram and `!!!`, `ab` and `a!!` have none.
    """
    for word in re.finditer(r"[^\W_]+", key):
        padding = (2 if word.start() > 0 else 0) + (1 if word.end() < len(key) else 0)
        if len(word[0]) + padding >= MIN_QUERY:
            return True
    return False


def search_key(key: str) -> str:
    """The normalised query, refused when the trigram index cannot serve it (see MIN_QUERY)."""
    if len(key) < MIN_QUERY:
        raise InvalidArgument.field("query", f"must be empty or at least {MIN_QUERY} characters")
    if not _has_trigram(key):
        raise InvalidArgument.field(
            "query", f"must hold letters or digits the name index can look up, such as {MIN_QUERY} in a row"
        )
    return key
