"""Apps as the stores list them, from a seeded random source: the realistic ~50-field app object.

A `StoreApp` holds what lasts about an app (ids, name, publisher, price); `store_record` is the object a
delivery carries for it at one rank of one chart on one day. The committed sample files
(scripts/make_sample_data.py) are this module's output for one seed: a change to the order or number
of calls on the random source changes them.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from typing import Any

# Chart lengths: every rank has a free and a grossing entry, the first 60 a paid one, the first 15 a
# "new" one, so a rank group holds 2 to 4 app objects.
CHARTS = {"topfreeapplications": 100, "topgrossingapplications": 100, "toppaidapplications": 60, "new": 15}

# Word lists as text blocks (noqa SIM905): one quoted string a word would take a line a word.
COUNTRIES = (  # noqa: SIM905
    "US GB CA AU NZ IE DE FR ES IT PT NL BE LU AT CH SE NO DK FI IS PL CZ SK HU RO BG GR TR CY MT SI HR RS "
    "BA ME MK AL UA MD BY LT LV EE RU KZ UZ GE AM AZ IL SA AE QA KW BH OM JO LB EG MA TN DZ NG KE GH ZA TZ "
    "UG JP KR CN HK TW MO SG MY TH VN PH ID IN PK BD LK NP MM KH LA MN BR AR CL CO PE MX EC UY PY BO VE CR "
    "PA GT SV HN NI DO JM TT"
).split()
GENRES = tuple(
    "Action,Adventure,Arcade,Board,Card,Casual,Puzzle,Racing,Role Playing,Simulation,Sports,Strategy,"  # noqa: SIM905
    "Trivia,Word,Family,Music".split(",")
)
WORDS_A = tuple(
    "Merge Idle Pocket Royal Tiny Mega Star Dragon Candy Block Word Farm Sky Ocean Hero Magic Pixel Zombie "  # noqa: SIM905
    "Empire Castle Galaxy Golf".split()
)
WORDS_B = tuple(
    "Kingdom Legends Tycoon Saga Rush Quest Heroes Mania Blast Wars Story Island Clash Match Puzzle Racing "  # noqa: SIM905
    "Tactics Arena Valley City".split()
)
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
class StoreApp:
    """One app as a store lists it; the same StoreApp appears in several charts and days."""

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


def _slug(name: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split()) or "app"


def _humanized(name: str) -> str:
    # The data team's humanized_name: the name without its subtitle or trademark signs.
    return name.split(":")[0].replace("™", "").replace("®", "").strip()


def make_app(
    rng: random.Random, os_name: str, index: int, *, name: str | None = None, paid: bool
) -> StoreApp:
    """A new app on `os_name`; `index` keeps its bundle id unique, `name` replaces the random title."""
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
    return StoreApp(
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


def store_record(
    app: StoreApp, *, chart: str, rank: int, day: datetime.date, rng: random.Random
) -> dict[str, Any]:
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
    website = _slug(app.publisher_name).replace("-", "")
    return {
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
        "developer_website": f"https://www.{website}.example",
        "support_url": f"https://support.{website}.example",
        "privacy_policy_url": f"https://www.{website}.example/privacy",
        "has_ads": rng.random() < 0.6,
        "editors_choice": rng.random() < 0.05,
        "family_sharing": ios and rng.random() < 0.3,
        "downloads": None if ios else rng.choice(("1,000,000+", "10,000,000+", "100,000,000+")),
        "first_seen_date": app.release_date.isoformat(),
        "sdk_count": rng.randrange(3, 40),
    }
