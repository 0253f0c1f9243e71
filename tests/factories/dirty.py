"""Deliveries with known dirt, and what ingestion must make of them: the expectations tests assert.

`dirty_delivery` carries every kind of dirt docs/ingestion.md names (escapes to repair, records to
quarantine, duplicates); `drifting_deliveries` a day's type drift in descriptive fields. Both are built
from tests.factories.deliveries' `app` and `delivery`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.factories.deliveries import app, chart_groups, delivery, raw_json_with_escapes


@dataclass(frozen=True)
class ExpectedGame:
    """What the catalog should hold for one app of a delivery after the import's deduplication."""

    display_name: str
    best_rank: int


@dataclass
class DirtyExpectations:
    """What parsing :func:`dirty_delivery` must give, element by element (positions from 0)."""

    platform: str
    elements: int = 0
    accepted: dict[int, str] = field(default_factory=dict)  # position -> display name
    quarantined: dict[int, str] = field(default_factory=dict)  # position -> a fragment of the reason
    # position -> (field, repaired, encoding) of each repair, in order
    repairs: dict[int, tuple[tuple[str, str, str], ...]] = field(default_factory=dict)
    # position -> every (field, shape, action) of a descriptive field that drifted, for accepted apps
    drift: dict[int, frozenset[tuple[str, str, str]]] = field(default_factory=dict)
    games: dict[str, ExpectedGame] = field(default_factory=dict)  # store_id -> game after dedupe


class _DirtyBuilder:
    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.groups: list[list[object]] = []
        self.expect = DirtyExpectations(platform)

    def group(self) -> int:
        self.groups.append([])
        return len(self.groups)

    def ok(
        self,
        element: object,
        store_id: str,
        name: str,
        rank: int,
        *repairs: tuple[str, str, str],
        drift: tuple[tuple[str, str, str], ...] = (),
    ) -> None:
        position = self._add(element)
        self.expect.accepted[position] = name
        if repairs:
            self.expect.repairs[position] = repairs
        if drift:
            self.expect.drift[position] = frozenset(drift)
        known = self.expect.games.get(store_id)
        if known is None or rank < known.best_rank:
            self.expect.games[store_id] = ExpectedGame(name if known is None else known.display_name, rank)

    def bad(self, element: object, reason: str) -> None:
        self.expect.quarantined[self._add(element)] = reason

    def _add(self, element: object) -> int:
        self.groups[-1].append(element)
        self.expect.elements += 1
        return self.expect.elements - 1


def dirty_delivery(platform: str = "ios") -> tuple[bytes, DirtyExpectations]:
    """A small delivery with every kind of dirt docs/ingestion.md names, and what parsing it must give."""
    b = _DirtyBuilder(platform)

    def sid(n: int) -> str:
        return str(app(n, platform)["app_id"])

    def a(n: int, rank: int, **overrides: Any) -> dict[str, Any]:
        return app(n, platform, rank=rank, **overrides)

    rank = b.group()
    b.ok(a(1, rank, name="Pok\udc8emon GO"), sid(1), "Pokémon GO", rank, ("name", "Pokémon GO", "mac_roman"))
    b.ok(a(2, rank, name="Tower Builder"), sid(2), "Tower Builder", rank)
    b.ok(
        raw_json_with_escapes(a(3, rank), name=r"Arcade \ud83c\udfae Night"), sid(3), "Arcade 🎮 Night", rank
    )

    rank = b.group()
    b.ok(a(1, rank, name="Pok\udc8emon GO"), sid(1), "Pokémon GO", rank, ("name", "Pokémon GO", "mac_roman"))
    b.bad({}, "empty record")
    cafe = a(4, rank, name="Caf\udcc3\udca9 Quest", publisher_name="Soci\udc8et\udc8e Ludique")
    cafe_repairs = (("name", "Café Quest", "utf-8"), ("publisher_name", "Société Ludique", "mac_roman"))
    b.ok(cafe, sid(4), "Café Quest", rank, *cafe_repairs)
    b.bad(a(5, rank, name="Bad\udc05Name"), "unrepairable name")

    rank = b.group()
    b.bad(a(6, rank, name=None, humanized_name=None), "missing name")
    b.bad(a(7, rank, app_id=None), "missing app_id")
    b.bad(a(8, rank, app_id=""), "missing app_id")
    for element in (42, "just a string", None, [1, 2], True):
        b.bad(element, "not an object")

    def drifted(n: int, rank: int, field: str, shape: str, action: str, **overrides: Any) -> None:
        """A wrong type or value in a descriptive field: the app is kept, the drift noted."""
        b.ok(a(n, rank, **overrides), sid(n), f"Game {n}", rank, drift=((field, shape, action),))

    rank = b.group()
    drifted(10, rank, "rating", "a string", "dropped", rating="abc")
    drifted(11, rank, "rating_count", "a number out of range", "dropped", rating_count=-5)
    drifted(12, rank, "rating_count", "a number with a fraction", "dropped", rating_count=2.5)
    b.bad(a(13, rank, app_id=[1]), "bad app_id")
    b.bad(a(14, rank, app_id=True), "bad app_id")
    b.bad(a(15, rank, app_id=12.5), "bad app_id")
    drifted(16, rank, "categories", "a string", "converted", categories="Games")
    drifted(17, rank, "categories", "a number", "converted", categories=["Games", 7])
    record = a(18, rank)
    del record["os"]
    b.bad(record, "missing os")
    b.bad(a(19, rank, os="windows"), "bad os")
    drifted(20, rank, "release_date", "an unparseable date", "dropped", release_date="yesterday")
    drifted(21, rank, "price", "a number out of range", "dropped", price=-1)
    drifted(22, rank, "publisher_name", "text with a NUL character", "dropped", publisher_name="Evil\x00Corp")
    # An object where a scalar was (a rank out of range is in test_drift: a game keeps a rank here).
    drifted(23, rank, "rating_count", "an object", "dropped", rating_count={"all": 5, "current": 1})
    b.bad(a(24, rank, name="Star \ud83d Rider"), "unrepairable name")
    b.bad(a(25, rank, name="Apple \udcf0 Logo"), "unrepairable name")
    b.bad(a(26, rank, name="x" * 600), "bad name: 600 characters")
    b.bad(a(27, rank, name=42), "bad name: expected a string")
    drifted(28, rank, "in_app_purchases", "a string", "dropped", in_app_purchases="yes")

    rank = b.group()
    sloppy = a(
        30,
        rank,
        name="  ",
        humanized_name="Humanized Hero",
        rating="4.5",
        rating_count="12",
        price="",
        in_app_purchases="",
        release_date=1467763200,
        updated_date="2016-07-06",
    )
    numeric_strings = (
        ("rating", "a numeric string", "converted"),
        ("rating_count", "a numeric string", "converted"),
    )
    b.ok(sloppy, sid(30), "Humanized Hero", rank, drift=numeric_strings)
    b.ok(a(2, rank, name="Tower Builder"), sid(2), "Tower Builder", rank)
    b.ok(a(31, rank, icon_url="javascript:alert(1)"), sid(31), "Game 31", rank, ("icon_url", "", "dropped"))
    b.ok(raw_json_with_escapes(a(32, rank), name=r"Back\\udc8eslash"), sid(32), "Back\\udc8eslash", rank)
    b.ok(
        raw_json_with_escapes(a(33, rank), name=r"Pok\uDC8Emon Upper"),
        sid(33),
        "Pokémon Upper",
        rank,
        ("name", "Pokémon Upper", "mac_roman"),
    )

    rank = b.group()  # a chart appended late: Café Quest is at rank 1 there, its best rank
    cafe = a(4, 1, name="Caf\udcc3\udca9 Quest", publisher_name="Soci\udc8et\udc8e Ludique")
    b.ok(cafe, sid(4), "Café Quest", 1, *cafe_repairs)
    return delivery(b.groups), b.expect


@dataclass(frozen=True)
class DriftingFile:
    """One platform's delivery of one day whose types drift, and what parsing it must give."""

    key: str
    platform: str
    data: bytes
    elements: int  # every one of them is to be accepted
    # position -> every (field, shape, action) the reader must note for that app
    drift: dict[int, frozenset[tuple[str, str, str]]]


_GONE = object()  # a change's value that removes the field


@dataclass(frozen=True)
class _Change:
    """One field of every app (or of every `every`-th app) of a file delivered in another shape."""

    field: str
    value: Callable[[dict[str, Any]], object]  # the delivered value, from the app as `app` builds it
    drift: tuple[str, str] | None = None  # the (shape, action) to note; None for a canonical shape
    every: int = 1


# Day by day, platform by platform, as real files drift: the same field differs between the two
# platforms' files of one day and between one platform's files of two days.
_DRIFT_PLAN: dict[tuple[int, str], tuple[_Change, ...]] = {
    (1, "ios"): (
        _Change("version", lambda r: float(r["version"].rsplit(".", 1)[0]), ("a number", "converted")),
        _Change("rating_count", lambda r: str(r["rating_count"]), ("a numeric string", "converted")),
        _Change("in_app_purchases", lambda r: int(r["in_app_purchases"]), ("a number", "converted")),
        _Change("chart", lambda r: "topfreeapplications"),  # a new field, not used
    ),
    (1, "android"): (
        _Change("categories", lambda r: r["categories"][0], ("a string", "converted")),
        _Change("price", lambda r: str(r["price"]), ("a numeric string", "converted")),
        _Change("release_date", lambda r: 1_467_763_200_000, ("epoch milliseconds", "converted")),
        _Change("rating", lambda r: str(r["rating"]), ("a numeric string", "converted")),
        _Change("icon_url", lambda r: _GONE),
    ),
    (2, "ios"): (
        _Change("app_id", lambda r: str(r["app_id"])),  # a string where a number was: both are ids
        _Change("categories", lambda r: "Games", ("a string", "converted")),
        _Change(
            "rating_count", lambda r: {"all": r["rating_count"], "current": 12}, ("an object", "dropped")
        ),
        _Change("release_date", lambda r: "1467763200", ("a numeric string", "converted")),
        _Change("in_app_purchases", lambda r: str(r["in_app_purchases"]).lower(), ("a string", "converted")),
        _Change("version", lambda r: _GONE),
        _Change("editors_choice", lambda r: {"since": "2026-01-01", "regions": ["US"]}),
    ),
    (2, "android"): (
        _Change("publisher_id", lambda r: 5_000 + len(r["publisher_id"])),  # a number where a string was
        _Change("categories", lambda r: [*r["categories"], 7014], ("a number", "converted")),
        _Change("version", lambda r: 12, ("a number", "converted")),
        _Change("rating", lambda r: r["rating"] * 2, ("a number out of range", "dropped"), every=2),
        _Change("updated_date", lambda r: {"seconds": 1_714_521_600}, ("an object", "dropped")),
        _Change("rank", lambda r: str(r["rank"]), ("a numeric string", "converted")),
        _Change("price", lambda r: _GONE),
        _Change("rating_count", lambda r: None),
        _Change("bundle_id", lambda r: None),
    ),
}


def drifting_deliveries(day: int) -> tuple[DriftingFile, DriftingFile]:
    """Day 1 or 2 of an iOS and an Android delivery whose field types drift as real files' do."""
    files = []
    for platform in ("ios", "android"):
        groups: list[list[object]] = []
        drift: dict[int, frozenset[tuple[str, str, str]]] = {}
        for group in chart_groups(8, platform, charts=2):
            groups.append([])
            for record in group:
                position = len(drift)  # every element is an app, and every app gets an entry
                noted: set[tuple[str, str, str]] = set()
                for change in _DRIFT_PLAN[day, platform]:
                    if position % change.every:
                        continue
                    value = change.value(record)
                    if value is _GONE:
                        del record[change.field]
                    else:
                        record[change.field] = value
                    if change.drift is not None:
                        noted.add((change.field, *change.drift))
                groups[-1].append(record)
                drift[position] = frozenset(noted)
        key = f"2026-11-{23 + day}/{platform}.top100.json"
        files.append(DriftingFile(key, platform, delivery(groups), len(drift), drift))
    ios, android = files
    return ios, android
