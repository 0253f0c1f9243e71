"""One app object of a delivery to a GameRecord: strict on identity, tolerant on description.

Real deliveries drift (a field's type changes between platforms and between days), and one drifting
descriptive field must not cost the catalog a platform's games. So:

- An app is refused (its problems listed, joined with "; " by the caller) only for its identity, what
  the catalog requires to hold and show a game: it lacks `app_id` (a positive integer or a non-blank
  string), `os` (ios or android) or a name (`name`, else `humanized_name`, a string), or one of those
  carries a wrong type, an out-of-range value, a NUL character, a text over its length cap, or an
  escaped byte that cannot be repaired.
- Every other field the record uses is descriptive: it is normalised from the shapes real files use
  (:mod:`ingestion.parsing.values` states the rules), or dropped (left empty or None) when it still cannot be
  used. Each divergence from the canonical shape is listed as a :class:`Drift`, once per record and
  (field, shape, action). Absent and null mean unknown, and are not drift.
- Lone surrogate escapes are repaired in every text field the record uses (:mod:`ingestion.parsing.surrogates`
  states the rule); each repair of a value kept is listed with the delivered field's name. A URL that
  is not http(s), or longer than 2048 characters, is dropped to "" and listed as a repair with the
  encoding "dropped", since a game is still worth having without its icon.
- Fields the record does not use (description, countries, ..., and `humanized_name` when `name` is
  there) are not inspected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar

from ingestion.parsing import values
from ingestion.parsing.surrogates import restore, restore_deep, show_escapes
from ingestion.parsing.values import BadValue, Read

# The catalog's own limits (catalog/domain/validation.py), so an accepted record never fails the import.
MAX_NAME = 500
MAX_STORE_ID = 200
MAX_TEXT = 2000
MAX_URI = 2048
MAX_CATEGORIES = 50
MAX_CATEGORY = 200
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
MAX_PRICE = 1e9
PLATFORMS = ("ios", "android")
CONVERTED = "converted"
DROPPED = "dropped"

T = TypeVar("T")


@dataclass(frozen=True)
class GameRecord:
    """One app, normalised, ready to become a catalog Game."""

    platform: str
    store_id: str
    display_name: str
    bundle_id: str = ""
    publisher_id: str = ""
    publisher_name: str = ""
    app_version: str = ""
    rating: float | None = None
    rating_count: int | None = None
    release_time: datetime | None = None
    store_update_time: datetime | None = None
    categories: tuple[str, ...] = ()
    icon_uri: str = ""
    store_uri: str = ""
    price: float | None = None
    in_app_purchases: bool | None = None
    best_rank: int | None = None


@dataclass(frozen=True)
class Repair:
    """One delivered field changed on the way in: `original` shows escapes as ``\\udcXX`` text."""

    field: str
    original: str
    repaired: str
    encoding: str  # "utf-8", "mac_roman", or "dropped" for a URL that was not a web URL


@dataclass(frozen=True)
class Drift:
    """A descriptive field delivered in another shape than the contract's, and what was done with it.

    `shape` names what arrived ("a string", "an array", "a number out of range", ...: one of
    :data:`ingestion.parsing.values.SHAPES`); `action` is "converted" (the value was kept, normalised) or
    "dropped" (the field was left empty; for `categories`, the entries of that shape were left out).
    """

    field: str
    shape: str
    action: str


class AppReader:
    """Reads one app object into a GameRecord, collecting problems, repairs and drift on the way."""

    def __init__(self, obj: dict[str, object]) -> None:
        self.obj = obj
        self.problems: list[str] = []
        self.repairs: list[Repair] = []
        self.drift: list[Drift] = []

    def record(self) -> GameRecord:
        """The record; meaningful only when `problems` stays empty."""
        return GameRecord(
            platform=self._platform(),
            store_id=self._store_id(),
            display_name=self._display_name(),
            bundle_id=self._text("bundle_id"),
            publisher_id=self._text("publisher_id", convert=values.identifier),
            publisher_name=self._text("publisher_name"),
            app_version=self._text("version"),
            rating=self._value("rating", partial(values.number, low=0, high=5)),
            rating_count=self._value("rating_count", partial(values.integer, low=0, high=MAX_INT64)),
            release_time=self._value("release_date", values.timestamp),
            store_update_time=self._value("updated_date", values.timestamp),
            categories=self._categories(),
            icon_uri=self._url("icon_url"),
            store_uri=self._url("url"),
            price=self._value("price", partial(values.number, low=0, high=MAX_PRICE)),
            in_app_purchases=self._value("in_app_purchases", values.flag),
            best_rank=self._value("rank", partial(values.integer, low=1, high=MAX_INT32)),
        )

    def _get(self, key: str) -> object:
        raw = self.obj.get(key)
        # Restored once, here: a reason then shows a lone surrogate as \udcXX, never the parser's marker.
        return restore(raw) if isinstance(raw, str) else raw

    # Identity: strict, every problem refuses the app.

    def _platform(self) -> str:
        raw = self._get("os")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            self.problems.append("missing os")
            return ""
        value = raw.strip().lower() if isinstance(raw, str) else ""
        if value not in PLATFORMS:
            self.problems.append(f"bad os: {values.show(restore_deep(raw))} (expected 'ios' or 'android')")
        return value

    def _store_id(self) -> str:
        try:
            value = values.identifier(self._get("app_id")).value
            if value is None:
                self.problems.append("missing app_id")
                return ""
            return self._clean("app_id", value, MAX_STORE_ID)
        except BadValue as exc:
            self.problems.append(_problem("app_id", exc))
            return ""

    def _display_name(self) -> str:
        before = len(self.problems)
        name = self._name("name")
        if name or len(self.problems) > before:
            return name
        name = self._name("humanized_name")
        if not name and len(self.problems) == before:
            self.problems.append("missing name")
        return name

    def _name(self, key: str) -> str:
        raw = self._get(key)
        if raw is None:
            return ""
        if not isinstance(raw, str):
            self.problems.append(f"bad {key}: expected a string, got {values.kind(raw)}")
            return ""
        try:
            return self._clean(key, raw, MAX_NAME)
        except BadValue as exc:
            self.problems.append(_problem(key, exc))
            return ""

    def _clean(self, field: str, value: str, cap: int | None) -> str:
        """Repair, check and strip one restored string, listing the repair; BadValue if unusable."""
        cleaned, encoding = values.clean_text(value, cap)
        if encoding is not None:
            self.repairs.append(Repair(field, show_escapes(value), cleaned, encoding))
        return cleaned

    # Description: tolerant, a value that cannot be used is dropped and noted, never refused.

    def _value(self, key: str, convert: Callable[[object], Read[T]]) -> T | None:
        try:
            read = convert(self._get(key))
        except BadValue as exc:
            self._note(key, exc.shape, DROPPED)
            return None
        if read.drift is not None:
            self._note(key, read.drift, CONVERTED)
        return read.value

    def _text(
        self, key: str, cap: int | None = MAX_TEXT, convert: Callable[[object], Read[str]] = values.text
    ) -> str:
        value = self._value(key, convert)
        if not value:
            return ""
        try:
            return self._clean(key, value, cap)
        except BadValue as exc:
            self._note(key, exc.shape, DROPPED)
            return ""

    def _url(self, key: str) -> str:
        value = self._text(key, None, values.string)
        if value and (len(value) > MAX_URI or not values.is_web_url(value)):
            original = show_escapes(value)
            if len(original) > MAX_URI:
                original = original[:MAX_URI] + "..."
            self.repairs.append(Repair(key, original, "", "dropped"))
            return ""
        return value

    def _categories(self) -> tuple[str, ...]:
        raw = self.obj.get("categories")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return ()
        # One value where the list was is a list of one: a string is never split, since a category's
        # name may hold a comma.
        entries: list[object] = raw if isinstance(raw, list) else [raw]
        single = entries is not raw
        out: list[str] = []
        for i, entry in enumerate(entries):
            field = "categories" if single else f"categories[{i}]"
            try:
                read = values.text(restore(entry) if isinstance(entry, str) else entry)
                if not read.value or read.value.isspace():
                    continue  # a blank or null entry says nothing
                if len(out) == MAX_CATEGORIES:
                    self._note("categories", values.TOO_MANY, DROPPED)
                    break
                value = self._clean(field, read.value, MAX_CATEGORY)
            except BadValue as exc:
                self._note("categories", exc.shape, DROPPED)
                continue
            out.append(value)
            if read.drift is not None:
                self._note("categories", read.drift, CONVERTED)
        if single and out:
            self._note("categories", values.kind(raw), CONVERTED)
        return tuple(out)

    def _note(self, field: str, shape: str, action: str) -> None:
        drift = Drift(field, shape, action)
        if drift not in self.drift:  # a file's summary counts records per field and shape
            self.drift.append(drift)


def _problem(field: str, exc: BadValue) -> str:
    """The reason an identity field refuses its app, in the wording the quarantine has always used."""
    if exc.shape == values.UNREPAIRABLE:
        return f"unrepairable {field} {exc}"
    return f"bad {field}: {exc}"
