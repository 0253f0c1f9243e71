"""Delivered files in the data team's format (docs/ingestion.md, "The files"), dirt included, for tests.

A delivery is a JSON array of rank groups, each an array of app objects (one per store chart at that
rank). Lone surrogate escapes (``\\udc8e``) are written as the six characters of the escape, exactly as
the data team's exporter writes them; Python strings carrying lone surrogates become such escapes.

This module's files are small, built in memory from `app`, except `large_delivery`; the dirty ones
with their expectations are in tests.factories.dirty. The one generator
of deliveries is this package: realistic seeded apps (tests.factories.store_apps), a day's charts as
a file (tests.factories.store_charts: the committed sample files) and files streamed to disk
(tests.factories.streamed: the benchmark's file).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.factories.streamed import body, splice, write_lines


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


def large_delivery(
    path: Path, records: int, platform: str = "ios", *, charts: int = 3, apps: int | None = None
) -> int:
    """Write a clean delivery of `records` app objects to `path` (gzip when it ends in .gz); JSON bytes.

    `charts` apps a rank group, streamed (tests.factories.streamed): a million records take seconds and
    little memory. Apps are all distinct unless `apps` makes their numbers wrap around (duplicates with
    other ranks).
    """
    rest = body(app(0, platform), ("app_id", "name", "bundle_id", "rank"))

    def identity(i: int) -> dict[str, Any]:
        n = i if apps is None else i % apps
        app_id = 1_100_000_000 + n if platform == "ios" else f"com.studio.game{n}"
        return {
            "app_id": app_id,
            "name": f"Game {n}",
            "bundle_id": f"com.studio.game{n}",
            "rank": i // charts + 1,
        }

    groups = (
        b"[" + b",".join(splice(identity(i), rest) for i in range(start, min(start + charts, records))) + b"]"
        for start in range(0, records, charts)
    )
    return write_lines(path, groups)
