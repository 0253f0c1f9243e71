"""A catalog of N generated games, loaded through ImportGames (the catalog's COPY importer), and queries.

Names are built to give search three kinds of query with known selectivity at any N:
- `name`: a game's brand, a made-up word of three syllables shared by about N/27,000 games (37 at 1M);
- `prefix`: the first two syllables of a brand, which 30 brands start with (and more contain):
  about N/450 games, 2,200 at 1M;
- `word`: a common English word of the names (N/20 to N/11 games, 50,000 to 91,000 at 1M).
A tenth of the brands carry an accent (`é`), which the accent-insensitive search must see through.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import grpc

from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc

SYLLABLES = (
    "ka", "zor", "vel", "mi", "tra", "lun", "qui", "bro", "sen", "dax", "fi", "gor", "hel", "jin", "kro",
    "lis", "mun", "nor", "pax", "rin", "sol", "tev", "ulm", "vex", "wyn", "xal", "yor", "zen", "bal", "cyr",
)  # fmt: skip
BRANDS = len(SYLLABLES) ** 3
WORDS_A = ("Merge", "Idle", "Pocket", "Royal", "Tiny", "Mega", "Star", "Dragon", "Candy", "Block", "Farm")
WORDS_B = (
    "Kingdom", "Legends", "Tycoon", "Saga", "Rush", "Quest", "Heroes", "Mania", "Blast", "Wars",
    "Story", "Island", "Clash", "Match", "Puzzle", "Racing", "Tactics", "Arena", "Valley", "City",
)  # fmt: skip
CATEGORIES = ("Action", "Adventure", "Arcade", "Board", "Card", "Casual", "Puzzle", "Racing", "Strategy")
BATCH = 1000


def brand(index: int) -> str:
    """The made-up word of brand `index` (0 <= index < BRANDS), lower case, without accent."""
    n = len(SYLLABLES)
    return SYLLABLES[index // (n * n)] + SYLLABLES[index // n % n] + SYLLABLES[index % n]


def game(i: int) -> pb.Game:
    """Game number `i` as ingestion would send it."""
    b = brand(i % BRANDS)
    shown = b.capitalize()
    if i % BRANDS % 10 == 3 and "e" in shown:
        shown = shown.replace("e", "é", 1)
    name = f"{shown} {WORDS_A[i * 7 % len(WORDS_A)]} {WORDS_B[i * 13 % len(WORDS_B)]}"
    ios = i % 2 == 0
    store_id = str(1_000_000_000 + i) if ios else f"com.{b}.game{i}"
    return pb.Game(
        display_name=name,
        platform=pb.PLATFORM_IOS if ios else pb.PLATFORM_ANDROID,
        store_id=store_id,
        bundle_id=f"com.{b}.game{i}",
        publisher_id=str(300_000_000 + i % 50_000),
        publisher_name=f"{shown} Studios",
        app_version=f"{i % 12}.{i % 40}.{i % 10}",
        is_published=True,
        rating=3.0 + (i % 200) / 100,
        rating_count=i * 37 % 1_000_000,
        categories=["Games", CATEGORIES[i % len(CATEGORIES)]],
        icon_uri=f"https://cdn.example/icons/{store_id}.png",
        store_uri=f"https://store.example/app/{store_id}",
        price=0.0 if i % 5 else 1.99,
        in_app_purchases=i % 3 != 0,
        best_rank=1 + i % 200,
    )


def _requests(count: int) -> Iterator[pb.ImportGamesRequest]:
    source = pb.ImportSource(bucket="bench", key=f"games-{count}", etag=uuid.uuid4().hex)
    yield pb.ImportGamesRequest(header=pb.ImportHeader(source=source))
    for start in range(0, count, BATCH):
        games = [game(i) for i in range(start, min(count, start + BATCH))]
        yield pb.ImportGamesRequest(batch=pb.ImportBatch(games=games))
    yield pb.ImportGamesRequest(commit=pb.ImportCommit(game_count=count))


@dataclass(frozen=True)
class Loaded:
    """What loading the catalog took."""

    games: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.games / self.seconds


def load(channel: grpc.Channel, count: int) -> Loaded:
    """Import `count` games in one ImportGames stream (presenting ingestion's identity)."""
    started = time.perf_counter()
    response = pb_grpc.CatalogServiceStub(channel).ImportGames(_requests(count), timeout=3600)
    seconds = time.perf_counter() - started
    created = response.import_record.created_count
    if created != count:
        raise RuntimeError(f"the catalog created {created} of {count} games")
    return Loaded(count, seconds)


@dataclass(frozen=True)
class Queries:
    """Search queries of each kind, for a catalog of `games` games."""

    games: int
    name: list[str]
    prefix: list[str]
    word: list[str]


def queries(games: int, per_kind: int = 2000) -> Queries:
    """Queries that all match something in a catalog of `games` games, spread over its brands."""
    brands = min(games, BRANDS)
    step = max(1, brands // per_kind)
    picked = list(range(0, brands, step))[:per_kind]
    names = [brand(i) for i in picked]
    prefixes = sorted({brand(i)[: -len(SYLLABLES[i % len(SYLLABLES)])] for i in picked})
    words = [w.lower() for w in WORDS_A + WORDS_B]
    return Queries(games=games, name=names, prefix=prefixes, word=words)
