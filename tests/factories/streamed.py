"""Delivery files of N records streamed to disk: memory stays flat, a million records take seconds.

Each record is spliced as bytes: the fields that make it a new app, then the pre-serialised rest of a
template record. `realistic_delivery` is the file the ingestion benchmark ingests; `large_delivery`
(tests.factories.deliveries) the clean one the memory tests parse.

`realistic_delivery` follows the real charts, one rank group a line: the apps at that rank in the top
free (every rank), top grossing (every rank, and for 40% of ranks the same app as a free entry a few
ranks above: the same app twice in the file), top paid (the first 60 of each 100 ranks) and new (the
first 15) charts. Its records are `store_record`'s (about 50 fields, a country list of 20 to 100 codes)
with a longer store description, about 3 KB as real ones are. Dirt, per 1,000 records: 6 names with
Mac OS Roman byte escapes and 1 with a UTF-8 run (repaired), 1 name with half a surrogate pair, 1 empty
object, 1 null app_id and 1 rating "abc" (quarantined).
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from tests.factories.store_apps import CHARTS, SENTENCES, make_app, store_record
from tests.factories.store_charts import framed

SEED = 20261123
POOL = 500  # distinct template records of a realistic delivery
DAY = date(2026, 11, 23)
REPEAT_SHARE = 0.4  # grossing entries that repeat a free app of a few ranks above
# iOS app ids of a realistic delivery: clear of the ids `bench.games` gives the catalog's games (1e9 + i)
IOS_IDS = 1_500_000_000
_IDENTITY = ("app_id", "publisher_id", "name", "humanized_name", "os", "bundle_id", "url", "rank", "chart")


def body(record: dict[str, Any], without: Iterable[str]) -> bytes:
    """`record`'s JSON without the fields `without` and without its braces: the part `splice` reuses."""
    left_out = set(without)
    return orjson.dumps({key: value for key, value in record.items() if key not in left_out})[1:-1]


def splice(identity: dict[str, Any], rest: bytes) -> bytes:
    """One app object's JSON: the fields of `identity`, then `rest` (from `body`)."""
    return b"{" + orjson.dumps(identity)[1:-1] + b"," + rest + b"}"


def write_lines(path: Path, lines: Iterable[bytes]) -> int:
    """Stream the delivery of `lines` (rank groups' JSON) to `path`, gzip for .gz; the JSON bytes written."""
    # Level 1: this is test data, and a million records should compress in seconds.
    with gzip.open(path, "wb", compresslevel=1) if path.name.endswith(".gz") else path.open("wb") as out:
        return sum(out.write(piece) for piece in framed(lines))


@dataclass(frozen=True)
class WrittenDelivery:
    """A written file: its path, size, and what is in it."""

    path: Path
    records: int
    bytes: int
    repeats: int  # records that repeat an app already in the file
    repairable: int
    quarantinable: int

    @property
    def accepted(self) -> int:
        """Records ingestion should accept (every one but the quarantinable)."""
        return self.records - self.quarantinable


def _pool(rng: random.Random) -> list[tuple[str, bytes]]:
    """(os, the record's JSON without its identity fields and braces) for POOL template records."""
    pool = []
    for n in range(POOL):
        os_name = "ios" if n % 2 == 0 else "android"
        app = make_app(rng, os_name, n, paid=n % 4 == 0)
        app.description = " ".join(rng.choices(SENTENCES, k=rng.randrange(8, 20)))
        record = store_record(app, chart="topfreeapplications", rank=1, day=DAY, rng=rng)
        pool.append((os_name, body(record, _IDENTITY)))
    return pool


class _Writer:
    """Builds records one by one; counts what it wrote."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pool = _pool(rng)
        self.apps = 0
        self.repeats = self.repairable = self.quarantinable = 0

    def new_app(self) -> int:
        self.apps += 1
        return self.apps

    def record(self, app: int, chart: str, rank: int) -> bytes:
        """The JSON of app number `app` at `rank` of `chart`, dirty now and then."""
        os_name, rest = self.pool[app % POOL]
        words = ("Merge", "Royal", "Dragon", "Pixel", "Castle", "Galaxy", "Candy", "Farm")
        name = f"{words[app % 8]} {words[app // 8 % 8]} {app}"
        ident: dict[str, Any] = {"name": name, "humanized_name": name, "os": os_name}
        if os_name == "ios":
            ident |= {"app_id": IOS_IDS + app, "publisher_id": 300_000_000 + app % 9973}
            ident |= {
                "bundle_id": f"com.bench.app{app}",
                "url": f"https://apps.apple.com/us/app/id{IOS_IDS + app}",
            }
        else:
            ident |= {"app_id": f"com.bench.app{app}", "publisher_id": str(10**18 + app % 9973)}
            ident |= {
                "bundle_id": f"com.bench.app{app}",
                "url": f"https://play.google.com/store/apps/details?id=com.bench.app{app}",
            }
        ident |= {"rank": rank, "chart": chart}
        dirt = self.rng.randrange(1000)
        if dirt == 0:
            self.quarantinable += 1
            return b"{}"
        if dirt < 7:
            ident["name"] = f"Pok\udc8emon {app}"  # 0x8E: "é" in Mac OS Roman
            self.repairable += 1
        elif dirt == 7:
            ident["name"] = f"Caf\udcc3\udca9 {app}"  # C3 A9: "é" in UTF-8
            self.repairable += 1
        elif dirt == 8:
            ident["name"] = f"Star \ud83d {app}"  # half a surrogate pair: cannot be repaired
            self.quarantinable += 1
        elif dirt == 9:
            ident["app_id"] = None
            self.quarantinable += 1
        elif dirt == 10:
            ident["rating"] = "abc"
            self.quarantinable += 1
        if dirt <= 10:
            # json keeps lone surrogates as \\uXXXX escapes (orjson refuses them); a later key wins.
            head = json.dumps(ident, separators=(",", ":"), ensure_ascii=True).encode()
            return b"{" + rest + b"," + head[1:]
        return splice(ident, rest)

    def groups(self, records: int) -> Iterator[bytes]:
        """One line per rank group until `records` records are written."""
        written = 0
        rank = 0
        recent_free: list[int] = []
        while written < records:
            rank += 1
            entries: list[bytes] = []
            for chart, per_hundred in CHARTS.items():
                if (rank - 1) % 100 >= per_hundred or written + len(entries) >= records:
                    continue
                if chart == "topgrossingapplications" and recent_free and self.rng.random() < REPEAT_SHARE:
                    app = self.rng.choice(recent_free)
                    self.repeats += 1
                else:
                    app = self.new_app()
                if chart == "topfreeapplications":
                    recent_free = [*recent_free[-9:], app]
                entries.append(self.record(app, chart, rank))
            written += len(entries)
            yield b"[" + b",".join(entries) + b"]"


def realistic_delivery(path: Path, records: int, *, seed: int = SEED) -> WrittenDelivery:
    """Write a delivery of `records` records to `path` (streamed: memory stays flat), as real ones are."""
    writer = _Writer(random.Random(seed))
    write_lines(path, writer.groups(records))
    return WrittenDelivery(
        path=path,
        records=records,
        bytes=path.stat().st_size,
        repeats=writer.repeats,
        repairable=writer.repairable,
        quarantinable=writer.quarantinable,
    )
