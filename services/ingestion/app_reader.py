"""One app object of a delivery to a GameRecord, with the problems and repairs found on the way.

- An app is refused (its problems listed, joined with "; " by the caller) when it lacks `app_id`, `os`
  or a name (`name`, else `humanized_name`), carries a wrong type or an out-of-range value, an
  unparseable date, a NUL character, a text over its length cap, or an escaped byte that cannot be
  repaired.
- Lone surrogate escapes are repaired in every text field the record uses (:mod:`ingestion.repair`
  states the rule); each repair is listed with the delivered field's name. A URL that is not http(s),
  or longer than 2048 characters, is dropped to "" and listed as a repair with the encoding "dropped",
  since a game is still worth having without its icon.
- Fields the record does not use (description, countries, ..., and `humanized_name` when `name` is
  there) are not inspected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TypeVar

from ingestion import values
from ingestion.repair import Unrepairable, repair_text, restore, restore_deep, show_escapes
from ingestion.values import BadValue

# The catalog's own limits (catalog/validation.py), so an accepted record never fails the import.
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

    `shape` names what arrived ("a string", "an array", "a number out of range", ...); `action` is
    "converted" (the value was kept, normalised) or "dropped" (the field was left empty).
    """

    field: str
    shape: str
    action: str


class AppReader:
    """Reads one app object into a GameRecord, collecting problems and repairs on the way."""

    def __init__(self, obj: dict[str, object]) -> None:
        self.obj = obj
        self.problems: list[str] = []
        self.repairs: list[Repair] = []
        self.drift: list[Drift] = []

    def record(self) -> GameRecord:
        """The record; meaningful only when `problems` stays empty."""
        get = self.obj.get
        return GameRecord(
            platform=self._platform(),
            store_id=self._store_id(),
            display_name=self._display_name(),
            bundle_id=self._text("bundle_id", MAX_TEXT),
            publisher_id=self._publisher_id(),
            publisher_name=self._text("publisher_name", MAX_TEXT),
            app_version=self._text("version", MAX_TEXT),
            rating=self._number("rating", 0, 5),
            rating_count=self._integer("rating_count", 0, MAX_INT64),
            release_time=self._convert("release_date", values.timestamp, get("release_date")),
            store_update_time=self._convert("updated_date", values.timestamp, get("updated_date")),
            categories=self._categories(),
            icon_uri=self._url("icon_url"),
            store_uri=self._url("url"),
            price=self._number("price", 0, MAX_PRICE),
            in_app_purchases=self._convert("in_app_purchases", values.flag, get("in_app_purchases")),
            best_rank=self._integer("rank", 1, MAX_INT32),
        )

    def _platform(self) -> str:
        raw = self.obj.get("os")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            self.problems.append("missing os")
            return ""
        value = restore(raw).strip().lower() if isinstance(raw, str) else ""
        if value not in PLATFORMS:
            self.problems.append(f"bad os: {values.show(restore_deep(raw))} (expected 'ios' or 'android')")
        return value

    def _store_id(self) -> str:
        value = self._convert("app_id", values.identifier, self.obj.get("app_id"), missing="")
        if value is None:
            self.problems.append("missing app_id")
            return ""
        return self._clean("app_id", value, MAX_STORE_ID) if value else ""

    def _publisher_id(self) -> str:
        value = self._convert("publisher_id", values.identifier, self.obj.get("publisher_id"))
        return self._clean("publisher_id", value, MAX_TEXT) if value else ""

    def _display_name(self) -> str:
        before = len(self.problems)
        name = self._text("name", MAX_NAME)
        if name or len(self.problems) > before:
            return name
        name = self._text("humanized_name", MAX_NAME)
        if not name and len(self.problems) == before:
            self.problems.append("missing name")
        return name

    def _text(self, key: str, cap: int | None) -> str:
        raw = self.obj.get(key)
        if raw is None:
            return ""
        if not isinstance(raw, str):
            self.problems.append(f"bad {key}: expected a string, got {values.kind(raw)}")
            return ""
        return self._clean(key, raw, cap)

    def _clean(self, field: str, raw: str, cap: int | None) -> str:
        """Restore, repair, check and strip one delivered string."""
        value = restore(raw)
        try:
            repaired, encoding = repair_text(value)
        except Unrepairable as exc:
            self.problems.append(f"unrepairable {field} {values.show(value)}: {exc}")
            return ""
        if encoding is not None:
            self.repairs.append(Repair(field, show_escapes(value), repaired, encoding))
        if "\x00" in repaired:
            self.problems.append(f"bad {field}: contains a NUL character")
            return ""
        repaired = repaired.strip()
        if cap is not None and len(repaired) > cap:
            self.problems.append(f"bad {field}: {len(repaired)} characters long (at most {cap})")
            return ""
        return repaired

    def _url(self, key: str) -> str:
        value = self._text(key, None)
        if value and (len(value) > MAX_URI or not values.is_web_url(value)):
            original = show_escapes(value)
            if len(original) > MAX_URI:
                original = original[:MAX_URI] + "..."
            self.repairs.append(Repair(key, original, "", "dropped"))
            return ""
        return value

    def _categories(self) -> tuple[str, ...]:
        raw = self.obj.get("categories")
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problems.append(f"bad categories: expected an array of strings, got {values.kind(raw)}")
            return ()
        out: list[str] = []
        for i, entry in enumerate(raw):
            field = f"categories[{i}]"
            if not isinstance(entry, str):
                self.problems.append(f"bad {field}: expected a string, got {values.kind(entry)}")
            elif value := self._clean(field, entry, MAX_CATEGORY):
                out.append(value)
        if len(out) > MAX_CATEGORIES:
            self.problems.append(f"bad categories: {len(out)} entries (at most {MAX_CATEGORIES})")
        return tuple(out)

    def _number(self, key: str, low: float, high: float) -> float | None:
        value = self._convert(key, partial(values.number, low=low, high=high), self.obj.get(key))
        return None if value is None else float(value)

    def _integer(self, key: str, low: int, high: int) -> int | None:
        value = self._convert(
            key, partial(values.number, low=low, high=high, integer=True), self.obj.get(key)
        )
        return None if value is None else int(value)

    def _convert(
        self, key: str, convert: Callable[[object], T | None], raw: object, missing: T | None = None
    ) -> T | None:
        try:
            # Restored first, so a reason shows a lone surrogate as \udcXX, never the parser's marker.
            return convert(restore(raw) if isinstance(raw, str) else raw)
        except BadValue as exc:
            self.problems.append(f"bad {key}: {exc}")
            return missing
