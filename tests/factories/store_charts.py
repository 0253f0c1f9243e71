"""A day's store charts as a delivery file: rank groups of realistic app objects, dirt where asked.

The file layout is the data team's: a JSON array with one rank group a line. `framed` writes that layout
around any rank groups' JSON, so files built here in memory and files streamed to disk
(tests.factories.streamed) come out alike.
"""

from __future__ import annotations

import datetime
import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.factories.store_apps import CHARTS, StoreApp, store_record

Edit = Callable[[dict[str, Any]], dict[str, Any]]


def as_is(record: dict[str, Any]) -> dict[str, Any]:
    """No dirt: the record as it is."""
    return record


def set_fields(**fields: Any) -> Edit:
    """Dirt: these fields with these values (a null id, a rating of the wrong type)."""
    return lambda record: {**record, **fields}


def drop_field(name: str) -> Edit:
    """Dirt: the record without the field `name`."""
    return lambda record: {key: value for key, value in record.items() if key != name}


def empty_object(record: dict[str, Any]) -> dict[str, Any]:
    """Dirt: an empty object where the app was."""
    return {}


@dataclass
class ChartDay:
    """The charts of one platform on one day: for each chart, the app at each rank (index + 1)."""

    os: str
    day: datetime.date
    charts: dict[str, list[StoreApp]]
    # (chart, rank) -> how to dirty that one record.
    dirt: dict[tuple[str, int], Edit] = field(default_factory=dict)

    def groups(self, rng: random.Random) -> list[list[dict[str, Any]]]:
        """The file's content: one rank group per rank, one object per chart that has the rank."""
        groups = []
        for rank in range(1, max(CHARTS.values()) + 1):
            group = []
            for chart, apps in self.charts.items():
                if rank <= len(apps):
                    record = store_record(apps[rank - 1], chart=chart, rank=rank, day=self.day, rng=rng)
                    group.append(self.dirt.get((chart, rank), as_is)(record))
            groups.append(group)
        return groups


def fill_charts(
    rng: random.Random, free: list[StoreApp], paid: list[StoreApp], pinned: dict[tuple[str, int], StoreApp]
) -> dict[str, list[StoreApp]]:
    """Fill each chart from the pools, with `pinned` apps at their ranks; free and grossing overlap."""
    charts: dict[str, list[StoreApp]] = {}
    for chart, length in CHARTS.items():
        pool = paid if chart == "toppaidapplications" else free
        pins = {rank: app for (name, rank), app in pinned.items() if name == chart}
        pinned_ids = {id(app) for app in pins.values()}
        rest = [app for app in pool if id(app) not in pinned_ids]
        rng.shuffle(rest)
        filler = iter(rest)
        charts[chart] = [pins[rank] if rank in pins else next(filler) for rank in range(1, length + 1)]
    return charts


def rerank(
    rng: random.Random, charts: dict[str, list[StoreApp]], keep: dict[tuple[str, int], StoreApp]
) -> dict[str, list[StoreApp]]:
    """The next day's charts: each app moves a few places; `keep` apps go to the ranks given."""
    moved: dict[str, list[StoreApp]] = {}
    for chart, apps in charts.items():
        keyed = sorted(apps, key=lambda app: apps.index(app) + rng.uniform(-6, 6))
        pinned = [app for (name, _rank), app in keep.items() if name == chart]
        keyed = [app for app in keyed if all(app is not p for p in pinned)]
        for (name, rank), app in sorted(keep.items(), key=lambda item: item[0][1]):
            if name == chart:
                keyed.insert(rank - 1, app)
        moved[chart] = keyed[: len(apps)]
    return moved


def framed(lines: Iterable[bytes]) -> Iterator[bytes]:
    """A delivery's bytes, piece by piece: the array around `lines` (each a rank group's JSON), one a line."""
    yield b"[\n"
    for n, line in enumerate(lines):
        yield line if n == 0 else b",\n" + line
    yield b"\n]\n"


def encode(groups: list[list[dict[str, Any]]]) -> bytes:
    """The file's bytes: ASCII JSON (so lone surrogates stay \\uXXXX escapes), one rank group a line."""
    lines = (json.dumps(group, separators=(",", ":"), ensure_ascii=True).encode("ascii") for group in groups)
    return b"".join(framed(lines))
