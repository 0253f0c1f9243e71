"""Write deploy/local/sample-data/: synthetic daily deliveries in the data team's format, dirt included.

Deterministic (seeded, gzip without timestamps): running it again rewrites the same bytes, so the
committed files are its output and a diff shows any change. deploy/local/sample-data/README.md lists
every piece of dirt and where it sits; keep the two in step.

    .venv/bin/python scripts/make_sample_data.py [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

SEED = 20261122
OUT = Path(__file__).resolve().parent.parent / "deploy" / "local" / "sample-data"
DAY1 = datetime.date(2026, 11, 22)
DAY2 = datetime.date(2026, 11, 23)

# Chart lengths: every rank has a free and a grossing entry, the first 60 a paid one, the first 15 a
# "new" one, so a rank group holds 2 to 4 app objects.
CHARTS = {"topfreeapplications": 100, "topgrossingapplications": 100, "toppaidapplications": 60, "new": 15}

# Dirt, written as Python strings whose lone surrogates json.dumps turns into the raw \uXXXX escapes.
POKEMON_MAC_ROMAN = "Pok\udc8emon GO"  # byte 0x8E: "é" in Mac OS Roman
CAFE_UTF8_RUN = "Caf\udcc3\udca9 Quest"  # bytes C3 A9: "é" in UTF-8
UNREPAIRABLE = "Star Rider \ud83d Galaxy"  # half of an emoji's surrogate pair: no byte, no character
LEGIT_EMOJI = "Rocket Rush \U0001f680"  # a whole pair (\ud83d\ude80): valid JSON, must be left alone
SOCIETE_MAC_ROMAN = "Soci\udc8et\udc8e Ludique"  # a publisher name, to show dirt outside `name`

COUNTRIES = (  # noqa: SIM905 - 110 codes read better as one block than as 110 quoted strings
    "US GB CA AU NZ IE DE FR ES IT PT NL BE LU AT CH SE NO DK FI IS PL CZ SK HU RO BG GR TR CY MT SI HR RS "
    "BA ME MK AL UA MD BY LT LV EE RU KZ UZ GE AM AZ IL SA AE QA KW BH OM JO LB EG MA TN DZ NG KE GH ZA TZ "
    "UG JP KR CN HK TW MO SG MY TH VN PH ID IN PK BD LK NP MM KH LA MN BR AR CL CO PE MX EC UY PY BO VE CR "
    "PA GT SV HN NI DO JM TT"
).split()
GENRES: tuple[str, ...] = (
    "Action",
    "Adventure",
    "Arcade",
    "Board",
    "Card",
    "Casual",
    "Puzzle",
    "Racing",
    "Role Playing",
)
GENRES += ("Simulation", "Sports", "Strategy", "Trivia", "Word", "Family", "Music")
WORDS_A: tuple[str, ...] = (
    "Merge",
    "Idle",
    "Pocket",
    "Royal",
    "Tiny",
    "Mega",
    "Star",
    "Dragon",
    "Candy",
    "Block",
    "Word",
)
WORDS_A += ("Farm", "Sky", "Ocean", "Hero", "Magic", "Pixel", "Zombie", "Empire", "Castle", "Galaxy", "Golf")
WORDS_B: tuple[str, ...] = (
    "Kingdom",
    "Legends",
    "Tycoon",
    "Saga",
    "Rush",
    "Quest",
    "Heroes",
    "Mania",
    "Blast",
    "Wars",
)
WORDS_B += ("Story", "Island", "Clash", "Match", "Puzzle", "Racing", "Tactics", "Arena", "Valley", "City")
STUDIOS = ("Bright", "Lumen", "Northwind", "Paper Crane", "Red Kite", "Silver", "Tidal", "Orchid", "Kestrel")
STUDIO_SUFFIXES = ("Games", "Studios", "Interactive", "Entertainment", "Ltd.", "Inc.", "Labs")
SENTENCES = (
    "Build, battle and explore in a world that changes every season.",
    "Play offline or join friends in real-time events.",
    "Collect hundreds of characters and upgrade them your way.",
    "Hand-crafted levels with new ones added every week.",
    "Simple to learn, hard to master: the perfect game for a short break.",
    "Compete in global leaderboards and climb the ranks.",
    "Free to play, with optional in-app purchases.",
    "Relaxing music and beautiful art for hours of fun.",
)


@dataclass
class App:
    """One app as a store lists it; the same App appears in several charts and days."""

    os: str
    app_id: int | str
    publisher_id: int | str
    name: str
    publisher_name: str
    bundle_id: str
    price: float
    in_app_purchases: bool | str
    genre: str
    release_date: datetime.date
    version: str
    rating: float
    rating_count: int
    countries: list[str]
    description: str
    extra: dict[str, Any] = field(default_factory=dict)


def _slug(name: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split()) or "app"


def _humanized(name: str) -> str:
    # The data team's humanized_name: the name without its subtitle or trademark signs.
    return name.split(":")[0].replace("™", "").replace("®", "").strip()


def _make_app(rng: random.Random, os_name: str, index: int, *, name: str | None = None, paid: bool) -> App:
    studio = f"{rng.choice(STUDIOS)} {rng.choice(STUDIO_SUFFIXES)}"
    title = name or f"{rng.choice(WORDS_A)} {rng.choice(WORDS_B)}"
    if name is None and rng.random() < 0.25:
        title += f" {rng.choice(('2', '3', 'HD', 'Online', 'Deluxe'))}"
    slug = _slug(title).replace("-", "")[:20] or "app"
    company = _slug(studio).replace("-", "")[:16]
    if os_name == "ios":
        app_id: int | str = 1_000_000_000 + rng.randrange(600_000_000)
        publisher_id: int | str = 300_000_000 + rng.randrange(1_500_000_000)
        bundle_id = f"com.{company}.{slug}{index}"
    else:
        app_id = f"com.{company}.{slug}{index}"
        publisher_id = str(rng.randrange(10**18, 10**19))
        bundle_id = app_id
    release = datetime.date(2012, 1, 1) + datetime.timedelta(days=rng.randrange(5000))
    in_app: bool | str = rng.choice((True, True, True, False, ""))  # "" is how the feed says unknown
    countries = (
        COUNTRIES[:100] if rng.random() < 0.4 else sorted(rng.sample(COUNTRIES, rng.randrange(20, 80)))
    )
    return App(
        os=os_name,
        app_id=app_id,
        publisher_id=publisher_id,
        name=title,
        publisher_name=studio,
        bundle_id=bundle_id,
        price=rng.choice((0.99, 1.99, 2.99, 4.99, 6.99)) if paid else 0.0,
        in_app_purchases=in_app,
        genre=rng.choice(GENRES),
        release_date=release,
        version=f"{rng.randrange(1, 12)}.{rng.randrange(0, 40)}.{rng.randrange(0, 10)}",
        rating=round(rng.uniform(3.1, 4.9), 2),
        rating_count=int(rng.lognormvariate(9, 2)) + 5,
        countries=list(countries),
        description=" ".join(rng.sample(SENTENCES, 3)),
    )


def _record(app: App, *, chart: str, rank: int, day: datetime.date, rng: random.Random) -> dict[str, Any]:
    """The ~50-field object the feed carries for `app` at `rank` of `chart` on `day`."""
    ios = app.os == "ios"
    updated = datetime.datetime.combine(day - datetime.timedelta(days=rng.randrange(1, 60)), datetime.time())
    updated += datetime.timedelta(seconds=rng.randrange(86_400))
    last_week = max(1, rank + rng.randrange(-15, 16)) if rng.random() < 0.85 else None
    histogram = [rng.randrange(1, 100) * app.rating_count // 400 for _ in range(5)]
    if ios:
        url = f"https://apps.apple.com/us/app/{_slug(app.name)}/id{app.app_id}"
        icon = f"https://is1-ssl.mzstatic.com/image/thumb/Purple/{rng.getrandbits(48):012x}/AppIcon-512.png"
    else:
        url = f"https://play.google.com/store/apps/details?id={app.app_id}"
        icon = f"https://play-lh.googleusercontent.com/{rng.getrandbits(96):024x}=s512"
    record: dict[str, Any] = {
        "app_id": app.app_id,
        "publisher_id": app.publisher_id,
        "name": app.name,
        "humanized_name": _humanized(app.name),
        "os": app.os,
        "publisher_name": app.publisher_name,
        "seller_name": app.publisher_name,
        "bundle_id": app.bundle_id,
        "version": app.version,
        "rank": rank,
        "chart": chart,
        "chart_country": "US",
        "chart_date": day.isoformat(),
        "last_week_rank": last_week,
        "rank_change": None if last_week is None else last_week - rank,
        "days_in_chart": rng.randrange(1, 900),
        "rating": app.rating,
        "rating_count": app.rating_count,
        "rating_current_version": round(min(5.0, app.rating + rng.uniform(-0.4, 0.3)), 2),
        "rating_count_current_version": app.rating_count // rng.randrange(2, 20),
        "ratings_histogram": histogram,
        "release_date": app.release_date.isoformat(),
        "updated_date": updated.isoformat() + "Z",
        "categories": ["Games", app.genre],
        "category_ids": [6014, 7000 + GENRES.index(app.genre)]
        if ios
        else ["GAME", f"GAME_{app.genre.upper()}"],
        "primary_category": "Games",
        "icon_url": icon,
        "url": url,
        "price": app.price,
        "currency": "USD",
        "formatted_price": "Free" if app.price == 0 else f"${app.price:.2f}",
        "in_app_purchases": app.in_app_purchases,
        "iap_price_range": "$0.99 - $99.99" if app.in_app_purchases is True else "",
        "countries": app.countries,
        "description": app.description,
        "subtitle": app.description.split(".")[0][:30],
        "release_notes": "Bug fixes and performance improvements.",
        "content_rating": rng.choice(
            ("4+", "9+", "12+", "17+") if ios else ("Everyone", "Everyone 10+", "Teen")
        ),
        "advisories": rng.sample(
            ("Mild Cartoon Violence", "Infrequent Simulated Gambling", "Mild Fantasy"), 1
        ),
        "file_size_bytes": rng.randrange(40, 4000) * 1_048_576,
        "minimum_os_version": rng.choice(("13.0", "14.0", "15.0")) if ios else rng.choice(("7.0", "8.0")),
        "languages": sorted(rng.sample(("EN", "FR", "DE", "ES", "IT", "JA", "KO", "PT", "RU", "ZH"), 4)),
        "video_url": "",
        "developer_website": f"https://www.{_slug(app.publisher_name).replace('-', '')}.example",
        "support_url": f"https://support.{_slug(app.publisher_name).replace('-', '')}.example",
        "privacy_policy_url": f"https://www.{_slug(app.publisher_name).replace('-', '')}.example/privacy",
        "has_ads": rng.random() < 0.6,
        "editors_choice": rng.random() < 0.05,
        "family_sharing": ios and rng.random() < 0.3,
        "downloads": None if ios else rng.choice(("1,000,000+", "10,000,000+", "100,000,000+")),
        "first_seen_date": app.release_date.isoformat(),
        "sdk_count": rng.randrange(3, 40),
    }
    record.update(app.extra)
    return record


@dataclass
class Delivery:
    """The charts of one platform on one day: for each chart, the app at each rank (index + 1)."""

    os: str
    day: datetime.date
    charts: dict[str, list[App]]
    # (chart, rank) -> how to dirty that one record.
    dirt: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)

    def groups(self, rng: random.Random) -> list[list[dict[str, Any]]]:
        """The file's content: one rank group per rank, one object per chart that has the rank."""
        groups = []
        for rank in range(1, max(CHARTS.values()) + 1):
            group = []
            for chart, apps in self.charts.items():
                if rank <= len(apps):
                    record = _record(apps[rank - 1], chart=chart, rank=rank, day=self.day, rng=rng)
                    group.append(self.dirt.get((chart, rank), _keep)(record))
            groups.append(group)
        return groups


def _charts(
    rng: random.Random, free: list[App], paid: list[App], pinned: dict[tuple[str, int], App]
) -> dict[str, list[App]]:
    """Fill each chart from the pools, with `pinned` apps at their ranks; free and grossing overlap."""
    charts: dict[str, list[App]] = {}
    for chart, length in CHARTS.items():
        pool = paid if chart == "toppaidapplications" else free
        pins = {rank: app for (name, rank), app in pinned.items() if name == chart}
        pinned_ids = {id(app) for app in pins.values()}
        rest = [app for app in pool if id(app) not in pinned_ids]
        rng.shuffle(rest)
        filler = iter(rest)
        charts[chart] = [pins[rank] if rank in pins else next(filler) for rank in range(1, length + 1)]
    return charts


def _rerank(
    rng: random.Random, charts: dict[str, list[App]], keep: dict[tuple[str, int], App]
) -> dict[str, list[App]]:
    """The next day's charts: each app moves a few places; `keep` apps go to the ranks given."""
    moved: dict[str, list[App]] = {}
    for chart, apps in charts.items():
        keyed = sorted(apps, key=lambda app: apps.index(app) + rng.uniform(-6, 6))
        pinned = [app for (name, _rank), app in keep.items() if name == chart]
        keyed = [app for app in keyed if all(app is not p for p in pinned)]
        for (name, rank), app in sorted(keep.items(), key=lambda item: item[0][1]):
            if name == chart:
                keyed.insert(rank - 1, app)
        moved[chart] = keyed[: len(apps)]
    return moved


def _keep(record: dict[str, Any]) -> dict[str, Any]:
    return record


def _set(**fields: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda record: {**record, **fields}


def _drop(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda record: {key: value for key, value in record.items() if key != name}


def _empty(record: dict[str, Any]) -> dict[str, Any]:
    return {}


def build(rng: random.Random) -> dict[str, list[list[dict[str, Any]]]]:
    """Every sample file by relative path, as parsed JSON (lone surrogates as Python str)."""
    files: dict[str, list[list[dict[str, Any]]]] = {}

    # --- iOS ---
    ios_free = [_make_app(rng, "ios", n, paid=False) for n in range(130)]
    ios_paid = [_make_app(rng, "ios", 500 + n, paid=True) for n in range(80)]
    pokemon = replace(
        ios_free[0], name=POKEMON_MAC_ROMAN, publisher_name="Niantic, Inc.", in_app_purchases=True
    )
    pokemon.description = f"{POKEMON_MAC_ROMAN}: explore the world around you. {pokemon.description}"
    cafe = replace(ios_free[1], name=CAFE_UTF8_RUN)
    star = replace(ios_free[2], name=UNREPAIRABLE)
    rocket = replace(ios_free[3], name=LEGIT_EMOJI)
    castle = replace(ios_free[4], name="Castle Siege", in_app_purchases="")
    merge = replace(ios_free[5], name="Merge Mansion Story")
    ghost = replace(ios_free[6], name="Ghost Listing")
    ios_free[:7] = [pokemon, cafe, star, rocket, castle, merge, ghost]
    pins = {
        ("topfreeapplications", 3): pokemon,
        ("topgrossingapplications", 7): pokemon,
        ("topfreeapplications", 12): cafe,
        ("topfreeapplications", 18): rocket,
        ("topfreeapplications", 40): star,
        ("topfreeapplications", 9): castle,
        ("topgrossingapplications", 2): castle,
        ("topfreeapplications", 8): merge,
        ("topgrossingapplications", 61): ghost,
    }
    charts = _charts(rng, ios_free, ios_paid, pins)
    # The same app twice in one chart, as the feed sometimes repeats a row.
    charts["topfreeapplications"][76] = merge
    ios_day1 = Delivery(
        "ios",
        DAY1,
        charts,
        dirt={
            ("topgrossingapplications", 61): _set(app_id=None),
            ("toppaidapplications", 25): _set(rating="abc"),
            ("toppaidapplications", 50): _empty,
        },
    )
    files["2026-11-22/ios.top100.json"] = ios_day1.groups(rng)

    renamed = replace(castle, name="Castle Siege: Reborn", version="5.0.0")
    day2 = _rerank(rng, charts, {("topfreeapplications", 2): pokemon, ("topfreeapplications", 5): castle})
    day2 = {chart: [renamed if app is castle else app for app in apps] for chart, apps in day2.items()}
    files["2026-11-23/ios.top100.json.gz"] = Delivery("ios", DAY2, day2).groups(rng)

    # --- Android ---
    and_free = [_make_app(rng, "android", n, paid=False) for n in range(130)]
    and_paid = [_make_app(rng, "android", 500 + n, paid=True) for n in range(80)]
    pokemon_android = replace(and_free[0], name="Pok\u00e9mon GO", publisher_name="Niantic, Inc.")
    societe = replace(and_free[1], name="Belote Royale", publisher_name=SOCIETE_MAC_ROMAN)
    and_free[:2] = [pokemon_android, societe]
    pins = {
        ("topfreeapplications", 3): pokemon_android,
        ("topfreeapplications", 15): societe,
        ("topgrossingapplications", 20): societe,
    }
    charts = _charts(rng, and_free, and_paid, pins)
    android_day1 = Delivery(
        "android",
        DAY1,
        charts,
        dirt={
            ("topgrossingapplications", 33): _drop("name"),
            ("topfreeapplications", 44): _set(rating_count="12k"),
            ("toppaidapplications", 10): _empty,
        },
    )
    files["2026-11-22/android.top100.json"] = android_day1.groups(rng)
    files["2026-11-23/android.top100.json.gz"] = Delivery("android", DAY2, _rerank(rng, charts, {})).groups(
        rng
    )
    return files


def encode(groups: list[list[dict[str, Any]]]) -> bytes:
    """The file's bytes: ASCII JSON (so lone surrogates stay \\uXXXX escapes), one rank group a line."""
    lines = ",\n".join(json.dumps(group, separators=(",", ":"), ensure_ascii=True) for group in groups)
    return f"[\n{lines}\n]\n".encode("ascii")


# What each piece of dirt is, what ingestion should do with it, and how to spot it in a parsed record.
DIRT: tuple[tuple[str, str, Callable[[Any], bool]], ...] = (
    (
        "`name` with a Mac OS Roman byte escape: `Pok\\udc8emon GO` (also in `description`)",
        "repair to `Pokémon GO`, record the repair",
        lambda r: isinstance(r, dict) and r.get("name") == POKEMON_MAC_ROMAN,
    ),
    (
        "`name` with a UTF-8 run of byte escapes: `Caf\\udcc3\\udca9 Quest`",
        "repair to `Café Quest`, record the repair",
        lambda r: isinstance(r, dict) and r.get("name") == CAFE_UTF8_RUN,
    ),
    (
        "`name` with an unrepairable escape: `Star Rider \\ud83d Galaxy` (half a surrogate pair, no byte)",
        "quarantine: cannot be repaired",
        lambda r: isinstance(r, dict) and r.get("name") == UNREPAIRABLE,
    ),
    (
        "`publisher_name` with Mac OS Roman escapes: `Soci\\udc8et\\udc8e Ludique`",
        "repair to `Société Ludique` (dirt outside `name`)",
        lambda r: isinstance(r, dict) and r.get("publisher_name") == SOCIETE_MAC_ROMAN,
    ),
    (
        "NOT dirt: a valid surrogate pair `Rocket Rush \\ud83d\\ude80` (🚀)",
        "keep as is; a repair must not touch it",
        lambda r: isinstance(r, dict) and r.get("name") == LEGIT_EMOJI,
    ),
    (
        "NOT dirt: a proper escape `Pok\\u00e9mon GO`",
        "keep as is (`Pokémon GO`)",
        lambda r: isinstance(r, dict) and r.get("name") == "Pok\u00e9mon GO",
    ),
    ("an empty object `{}`", "quarantine: empty", lambda r: r == {}),
    (
        "`app_id` null",
        "quarantine: no id",
        lambda r: isinstance(r, dict) and "app_id" in r and r["app_id"] is None,
    ),
    (
        "`name` key missing",
        "quarantine: no name",
        lambda r: isinstance(r, dict) and r != {} and "name" not in r,
    ),
    (
        '`rating` of the wrong type: `"abc"`',
        "import without the rating; drift recorded (rating: a string, dropped)",
        lambda r: isinstance(r, dict) and isinstance(r.get("rating"), str),
    ),
    (
        '`rating_count` of the wrong type: `"12k"`',
        "import without the count; drift recorded (rating_count: a string, dropped)",
        lambda r: isinstance(r, dict) and isinstance(r.get("rating_count"), str),
    ),
    (
        "an app renamed since the day before: `Castle Siege` became `Castle Siege: Reborn`",
        "update the game's name (same app_id)",
        lambda r: isinstance(r, dict) and r.get("name") == "Castle Siege: Reborn",
    ),
)


def _where(groups: list[list[Any]], match: Callable[[Any], bool]) -> list[str]:
    return [
        f"rank {n + 1} ({record.get('chart', '?') if record else f'object {i + 1} of the group'})"
        for n, group in enumerate(groups)
        for i, record in enumerate(group)
        if match(record)
    ]


def _repeats(groups: list[list[Any]]) -> tuple[int, list[str]]:
    """How many apps occur more than once in the file, and those repeated within a single chart."""
    seen: dict[Any, list[tuple[str, int]]] = {}
    for group in groups:
        for record in group:
            if isinstance(record, dict) and record.get("app_id") is not None:
                seen.setdefault(record["app_id"], []).append(
                    (record.get("chart", "?"), record.get("rank", 0))
                )
    repeated = sum(1 for places in seen.values() if len(places) > 1)
    same_chart = []
    for places in seen.values():
        charts = [chart for chart, _ in places]
        for chart in sorted({c for c in charts if charts.count(c) > 1}):
            ranks = ", ".join(str(rank) for c, rank in places if c == chart)
            same_chart.append(f"{chart} ranks {ranks}")
    return repeated, same_chart


def readme(files: dict[str, list[list[dict[str, Any]]]]) -> str:
    """deploy/local/sample-data/README.md: the layout, and every piece of dirt with where it is."""
    out = [
        "# Local sample deliveries",
        "",
        "Generated by `scripts/make_sample_data.py` (seeded, deterministic); do not edit by hand:",
        "change the script and run `.venv/bin/python scripts/make_sample_data.py`.",
        "",
        'Synthetic data in the data team\'s format (DESIGN.md, "The S3 files"): a JSON array of 100 rank',
        "groups; each group holds one app object per store chart that has that rank (top free and top",
        "grossing to 100, top paid to 60, new to 15), so a group has 2 to 4 objects and apps recur across",
        "groups. About 50 fields per app; `app_id` and `publisher_id` are integers on iOS and strings on",
        'Android; `in_app_purchases` is true, false or `""` (unknown). Files are ASCII JSON, one rank group',
        "per line: the escapes below are the raw bytes in the file (a backslash, `u` and four hex digits).",
        "`gamectl up` uploads them to the local S3 with their relative paths as keys.",
        "",
        "| file | day | what |",
        "|---|---|---|",
        "| `2026-11-22/ios.top100.json` | 1 | plain JSON |",
        "| `2026-11-22/android.top100.json` | 1 | plain JSON |",
        "| `2026-11-23/ios.top100.json.gz` | 2 | gzip; re-ranked; `Castle Siege` renamed |",
        "| `2026-11-23/android.top100.json.gz` | 2 | gzip; re-ranked |",
        "",
        "## Dirt, on purpose",
        "",
        "Ranks are 1-based positions of the group in the file's array; the chart is the object's `chart`.",
        "",
    ]
    for relative, groups in files.items():
        out += [f"### `{relative}`", "", "| dirt | expected handling | where |", "|---|---|---|"]
        for label, handling, match in DIRT:
            places = _where(groups, match)
            if places:
                out.append(f"| {label} | {handling} | {'; '.join(places)} |")
        repeated, same_chart = _repeats(groups)
        out.append(
            f"| the same app several times with different ranks | one game, best rank | {repeated} apps"
            f" occur more than once{''.join(f'; {place}' for place in same_chart)} |"
        )
        out.append("")
    return "\n".join(out)


def write(out: Path) -> list[Path]:
    """Write every sample file and the README under `out`; return their paths."""
    written = []
    files = build(random.Random(SEED))  # noqa: S311 - reproducible sample data, not secrets
    (out / "README.md").parent.mkdir(parents=True, exist_ok=True)
    (out / "README.md").write_text(readme(files), encoding="utf-8")
    for relative, groups in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = encode(groups)
        if relative.endswith(".gz"):
            data = gzip.compress(data, compresslevel=9, mtime=0)  # mtime=0: same bytes on every run
        path.write_bytes(data)
        written.append(path)
    return written


def main() -> None:
    """Command line entry: write the sample data and print each file's size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    for path in write(args.out):
        print(f"{path.stat().st_size:>9,d}  {path}")


if __name__ == "__main__":
    main()
