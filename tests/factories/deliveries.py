"""Delivered files in the data team's format (DESIGN.md, "The S3 files"), dirt included, built in memory.

A delivery is a JSON array of rank groups, each an array of app objects (one per store chart at that
rank). Lone surrogate escapes (``\\udc8e``) are written as the six characters of the escape, exactly as
the data team's exporter writes them; Python strings carrying lone surrogates become such escapes.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


COUNTRIES = _words(
    "US GB CA AU NZ IE DE FR IT ES PT NL BE LU AT CH DK SE NO FI IS PL CZ SK HU RO BG GR TR RU UA BY "
    "LT LV EE SI HR RS BA MK AL MT CY IL SA AE QA KW BH OM JO LB EG MA TN DZ NG KE ZA GH TZ UG JP KR "
    "CN HK TW MO SG MY TH VN PH ID IN PK BD LK NP MX BR AR CL CO PE VE EC UY PY BO CR PA GT HN SV NI "
    "DO PR JM TT KZ UZ"
)
LANGUAGES = _words("EN FR DE ES IT PT JA KO ZH RU NL SV DA FI NB PL TR AR TH VI")
_WORDS = _words(
    "build explore battle friends worlds quest legendary heroes collect craft strategy puzzle daily "
    "rewards events compete leagues seasons unlock levels challenge arena guild"
)
_LONE = re.compile("[\ud800-\udfff]")


def _description(n: int) -> str:
    words = [_WORDS[(n + i * 7) % len(_WORDS)] for i in range(220)]
    return " ".join(words).capitalize() + ".\n\nFeatures:\n- " + "\n- ".join(_WORDS[:8])


def app(n: int, platform: str = "ios", **overrides: Any) -> dict[str, Any]:
    """A realistic app object (about 50 fields, a few KB) for app number `n`; overrides win."""
    ios = platform == "ios"
    app_id: int | str = 1_100_000_000 + n if ios else f"com.studio{n % 500}.game{n}"
    store_url = (
        f"https://apps.apple.com/us/app/game-{n}/id{app_id}"
        if ios
        else f"https://play.google.com/store/apps/details?id={app_id}"
    )
    record: dict[str, Any] = {
        "app_id": app_id,
        "canonical_country": "US",
        "name": f"Game {n}",
        "humanized_name": f"Game {n}",
        "os": platform,
        "publisher_id": 300_000_000 + n % 500 if ios else f"Studio+{n % 500}",
        "publisher_name": f"Studio {n % 500}",
        "publisher_profile_url": f"https://example.com/publishers/{n % 500}",
        "publisher_email": f"support@studio{n % 500}.example.com",
        "publisher_address": f"{n % 900 + 100} Market Street, San Francisco, CA",
        "bundle_id": f"com.studio{n % 500}.game{n}",
        "version": f"{1 + n % 5}.{n % 10}.{n % 3}",
        "rank": 1 + n % 100,
        "rating": round(3.0 + (n % 20) / 10, 1),
        "rating_count": 1_000 + n * 37,
        "rating_count_current_version": 100 + n % 1000,
        "rating_current_version": 4.2,
        "ratings_breakdown": [n % 50, n % 70, n % 90, n % 300, n % 900],
        "release_date": "2016-07-06T00:00:00Z",
        "updated_date": "2024-05-01T00:00:00Z",
        "current_version_release_date": "2024-05-01T00:00:00Z",
        "categories": ["Games", "Adventure"] if ios else ["game_adventure"],
        "category_ids": [6014, 7002] if ios else [],
        "icon_url": f"https://cdn.example.com/icons/{n}/512x512.png",
        "url": store_url,
        "price": 0.0 if n % 7 else 0.99,
        "currency": "USD",
        "in_app_purchases": n % 3 != 0,
        "iap_min_price": 0.99,
        "iap_max_price": 99.99,
        "has_ads": n % 2 == 0,
        "content_rating": "9+" if ios else "Everyone 10+",
        "minimum_os_version": "13.0" if ios else "8.0",
        "file_size_bytes": 150_000_000 + n,
        "supported_devices": ["iPhone", "iPad"] if ios else ["phone", "tablet"],
        "supported_languages": list(LANGUAGES),
        "countries": list(COUNTRIES),
        "valid_countries": list(COUNTRIES),
        "top_countries": list(COUNTRIES[:5]),
        "subtitle": "Adventure awaits",
        "short_description": f"Build and battle in world {n}.",
        "description": _description(n),
        "release_notes": "Bug fixes and performance improvements.",
        "screenshot_urls": [f"https://cdn.example.com/shots/{n}/{i}.png" for i in range(5)],
        "video_urls": [f"https://cdn.example.com/videos/{n}/trailer.mp4"],
        "support_url": f"https://studio{n % 500}.example.com/support",
        "website_url": f"https://studio{n % 500}.example.com",
        "privacy_policy_url": f"https://studio{n % 500}.example.com/privacy",
        "copyright": f"© 2024 Studio {n % 500}",
        "game_center_enabled": ios,
        "shows_in_china": False,
        "active": True,
    }
    record.update(overrides)
    return record


@dataclass(frozen=True)
class RawJSON:
    """One group element written verbatim into a delivery (JSON text, UTF-8)."""

    data: bytes


def raw_json_with_escapes(record: dict[str, Any], **json_strings: str | list[str]) -> RawJSON:
    """`record` as JSON, each keyword's value being the JSON source text written between the quotes.

    ``raw_json_with_escapes(app(1), name=r"Pok\\udc8emon GO")`` puts the six characters ``\\udc8e`` in
    the file; a list gives an array of such strings (``categories=[r"Jeux \\udc8e"]``).
    """
    record = dict(record)
    sources: dict[str, str] = {}
    for key, value in json_strings.items():
        texts = value if isinstance(value, list) else [value]
        tokens = [f"@@raw-{key}-{i}@@" for i in range(len(texts))]
        sources.update(zip(tokens, texts, strict=True))
        record[key] = tokens if isinstance(value, list) else tokens[0]
    data = _dump(record)
    for token, text in sources.items():
        data = data.replace(f'"{token}"'.encode(), b'"' + text.encode() + b'"')
    return RawJSON(data)


def _dump(value: object, ensure_ascii: bool = False) -> bytes:
    if isinstance(value, RawJSON):
        return value.data
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    # json.dumps leaves lone surrogates raw when ensure_ascii is off; UTF-8 cannot carry them.
    return _LONE.sub(lambda m: f"\\u{ord(m[0]):04x}", text).encode()


def delivery(groups: Sequence[Sequence[object]], *, ensure_ascii: bool = False) -> bytes:
    """A delivered file: `groups` as a JSON array of arrays; RawJSON elements go in verbatim."""
    return (
        b"["
        + b",".join(b"[" + b",".join(_dump(e, ensure_ascii) for e in group) + b"]" for group in groups)
        + b"]"
    )


def chart_groups(ranks: int, platform: str = "ios", charts: int = 3) -> list[list[dict[str, Any]]]:
    """`ranks` rank groups of `charts` apps each; apps recur across charts at different ranks."""
    return [
        [app((rank + chart * 7) % ranks, platform, rank=rank + 1) for chart in range(charts)]
        for rank in range(ranks)
    ]


def gzipped(data: bytes) -> bytes:
    """`data` gzip-compressed, as a `.json.gz` delivery."""
    return gzip.compress(data, mtime=0)


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
    """A small delivery with every kind of dirt DESIGN.md names, and what parsing it must give."""
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


def large_delivery(
    path: Path, records: int, platform: str = "ios", *, charts: int = 3, apps: int | None = None
) -> int:
    """Write a delivery of `records` app objects to `path` (gzip when it ends in .gz); JSON bytes written.

    Streams from one pre-serialised template, so a million records take seconds and little memory.
    Apps are all distinct unless `apps` makes their numbers wrap around (duplicates with other ranks).
    """
    template = _dump(
        app(0, platform, app_id="@@id@@", name="@@name@@", bundle_id="@@bundle@@", rank="@@rank@@")
    )
    pieces = re.split(rb'"@@(id|name|bundle|rank)@@"', template)
    ios = platform == "ios"
    # Level 1: this is test data, and a million records should compress in seconds.
    gz = path.name.endswith(".gz")
    written = 0
    with gzip.open(path, "wb", compresslevel=1) if gz else path.open("wb") as out:
        buffer: list[bytes] = [b"["]
        for i in range(records):
            n = i if apps is None else i % apps
            values = {
                b"id": str(1_100_000_000 + n).encode() if ios else f'"com.studio.game{n}"'.encode(),
                b"name": f'"Game {n}"'.encode(),
                b"bundle": f'"com.studio.game{n}"'.encode(),
                b"rank": str(i // charts + 1).encode(),
            }
            if i % charts == 0:
                buffer.append(b"[" if i == 0 else b"],[")
            else:
                buffer.append(b",")
            buffer.extend(values.get(piece, piece) if k % 2 else piece for k, piece in enumerate(pieces))
            if len(buffer) > 4096:
                chunk = b"".join(buffer)
                written += out.write(chunk)
                buffer = []
        buffer.append(b"]]" if records else b"]")
        written += out.write(b"".join(buffer))
    return written
