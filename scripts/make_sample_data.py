"""Write deploy/local/sample-data/: synthetic daily deliveries in the data team's format, dirt included.

Deterministic (seeded, gzip without timestamps): running it again rewrites the same bytes, so the
committed files are its output and a diff shows any change. deploy/local/sample-data/README.md lists
every piece of dirt and where it sits; keep the two in step. The apps, charts and file layout come from
the tests' delivery generator (tests.factories.store_apps and store_charts); this script says which
files there are and where the dirt goes.

    .venv/bin/python scripts/make_sample_data.py [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import random
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file, the script still finds the generator under tests/

from tests.factories.store_apps import make_app  # noqa: E402
from tests.factories.store_charts import (  # noqa: E402
    ChartDay,
    drop_field,
    empty_object,
    encode,
    fill_charts,
    rerank,
    set_fields,
)

SEED = 20261122
OUT = ROOT / "deploy" / "local" / "sample-data"
DAY1 = datetime.date(2026, 11, 22)
DAY2 = datetime.date(2026, 11, 23)

# Dirt, written as Python strings whose lone surrogates json.dumps turns into the raw \uXXXX escapes.
POKEMON_MAC_ROMAN = "Pok\udc8emon GO"  # byte 0x8E: "é" in Mac OS Roman
CAFE_UTF8_RUN = "Caf\udcc3\udca9 Quest"  # bytes C3 A9: "é" in UTF-8
UNREPAIRABLE = "Star Rider \ud83d Galaxy"  # half of an emoji's surrogate pair: no byte, no character
LEGIT_EMOJI = "Rocket Rush \U0001f680"  # a whole pair (\ud83d\ude80): valid JSON, must be left alone
SOCIETE_MAC_ROMAN = "Soci\udc8et\udc8e Ludique"  # a publisher name, to show dirt outside `name`


def build(rng: random.Random) -> dict[str, list[list[dict[str, Any]]]]:
    """Every sample file by relative path, as parsed JSON (lone surrogates as Python str)."""
    files: dict[str, list[list[dict[str, Any]]]] = {}

    # --- iOS ---
    ios_free = [make_app(rng, "ios", n, paid=False) for n in range(130)]
    ios_paid = [make_app(rng, "ios", 500 + n, paid=True) for n in range(80)]
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
    charts = fill_charts(rng, ios_free, ios_paid, pins)
    # The same app twice in one chart, as the feed sometimes repeats a row.
    charts["topfreeapplications"][76] = merge
    ios_day1 = ChartDay(
        "ios",
        DAY1,
        charts,
        dirt={
            ("topgrossingapplications", 61): set_fields(app_id=None),
            ("toppaidapplications", 25): set_fields(rating="abc"),
            ("toppaidapplications", 50): empty_object,
        },
    )
    files["2026-11-22/ios.top100.json"] = ios_day1.groups(rng)

    renamed = replace(castle, name="Castle Siege: Reborn", version="5.0.0")
    day2 = rerank(rng, charts, {("topfreeapplications", 2): pokemon, ("topfreeapplications", 5): castle})
    day2 = {chart: [renamed if app is castle else app for app in apps] for chart, apps in day2.items()}
    files["2026-11-23/ios.top100.json.gz"] = ChartDay("ios", DAY2, day2).groups(rng)

    # --- Android ---
    and_free = [make_app(rng, "android", n, paid=False) for n in range(130)]
    and_paid = [make_app(rng, "android", 500 + n, paid=True) for n in range(80)]
    pokemon_android = replace(and_free[0], name="Pok\u00e9mon GO", publisher_name="Niantic, Inc.")
    societe = replace(and_free[1], name="Belote Royale", publisher_name=SOCIETE_MAC_ROMAN)
    and_free[:2] = [pokemon_android, societe]
    pins = {
        ("topfreeapplications", 3): pokemon_android,
        ("topfreeapplications", 15): societe,
        ("topgrossingapplications", 20): societe,
    }
    charts = fill_charts(rng, and_free, and_paid, pins)
    android_day1 = ChartDay(
        "android",
        DAY1,
        charts,
        dirt={
            ("topgrossingapplications", 33): drop_field("name"),
            ("topfreeapplications", 44): set_fields(rating_count="12k"),
            ("toppaidapplications", 10): empty_object,
        },
    )
    files["2026-11-22/android.top100.json"] = android_day1.groups(rng)
    android_day2 = ChartDay("android", DAY2, rerank(rng, charts, {}))
    files["2026-11-23/android.top100.json.gz"] = android_day2.groups(rng)
    return files


def _field_is(name: str, value: object) -> Callable[[Any], bool]:
    return lambda r: isinstance(r, dict) and name in r and r[name] == value


def _field_is_text(name: str) -> Callable[[Any], bool]:
    return lambda r: isinstance(r, dict) and isinstance(r.get(name), str)


# What each piece of dirt is, what ingestion should do with it, and how to spot it in a parsed record.
DIRT: tuple[tuple[str, str, Callable[[Any], bool]], ...] = (
    (
        "`name` with a Mac OS Roman byte escape: `Pok\\udc8emon GO` (also in `description`)",
        "repair to `Pokémon GO`, record the repair",
        _field_is("name", POKEMON_MAC_ROMAN),
    ),
    (
        "`name` with a UTF-8 run of byte escapes: `Caf\\udcc3\\udca9 Quest`",
        "repair to `Café Quest`, record the repair",
        _field_is("name", CAFE_UTF8_RUN),
    ),
    (
        "`name` with an unrepairable escape: `Star Rider \\ud83d Galaxy` (half a surrogate pair, no byte)",
        "quarantine: cannot be repaired",
        _field_is("name", UNREPAIRABLE),
    ),
    (
        "`publisher_name` with Mac OS Roman escapes: `Soci\\udc8et\\udc8e Ludique`",
        "repair to `Société Ludique` (dirt outside `name`)",
        _field_is("publisher_name", SOCIETE_MAC_ROMAN),
    ),
    (
        "NOT dirt: a valid surrogate pair `Rocket Rush \\ud83d\\ude80` (🚀)",
        "keep as is; a repair must not touch it",
        _field_is("name", LEGIT_EMOJI),
    ),
    (
        "NOT dirt: a proper escape `Pok\\u00e9mon GO`",
        "keep as is (`Pokémon GO`)",
        _field_is("name", "Pokémon GO"),
    ),
    ("an empty object `{}`", "quarantine: empty", lambda r: r == {}),
    ("`app_id` null", "quarantine: no id", _field_is("app_id", None)),
    (
        "`name` key missing",
        "quarantine: no name",
        lambda r: isinstance(r, dict) and r != {} and "name" not in r,
    ),
    (
        '`rating` of the wrong type: `"abc"`',
        "import without the rating; drift recorded (rating: a string, dropped)",
        _field_is_text("rating"),
    ),
    (
        '`rating_count` of the wrong type: `"12k"`',
        "import without the count; drift recorded (rating_count: a string, dropped)",
        _field_is_text("rating_count"),
    ),
    (
        "an app renamed since the day before: `Castle Siege` became `Castle Siege: Reborn`",
        "update the game's name (same app_id)",
        _field_is("name", "Castle Siege: Reborn"),
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
        "Synthetic data in the data team's format (docs/ingestion.md): a JSON array of 100 rank",
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
