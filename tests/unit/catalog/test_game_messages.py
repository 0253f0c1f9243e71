"""A game's message: its timestamps exact at any instant, and a page's messages cut as the domain page is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from catalog.model import Game, GameFields, Platform
from catalog.transport import converters
from gamekit.paging.pages import HEADROOM_BYTES, PageBudget, Rendering
from games.catalog.v1 import catalog_pb2 as pb

NOW = datetime(2026, 12, 5, 4, 21, 30, 301557, tzinfo=UTC)
INSTANTS = [
    NOW,
    datetime(2026, 12, 5, 4, 21, 30, 999999, tzinfo=timezone(timedelta(hours=-7, minutes=-30))),
    datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC),  # before the epoch: negative seconds, positive nanos
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 0),  # naive: UTC, as Timestamp.FromDatetime takes it
]


def game(n: int, *, when: datetime = NOW, name_length: int = 10) -> Game:
    fields = GameFields(
        display_name="x" * name_length,
        platform=Platform.IOS,
        store_id=f"store-{n}",
        categories=("Games", "Puzzle"),
        release_time=when,
        store_update_time=when,
        rating=4.5,
        best_rank=n + 1,
    )
    return Game(n + 1, fields, f"etag-{n}", when, when, last_import_id=7)


def stamp(value: datetime) -> Timestamp:
    expected = Timestamp()
    expected.FromDatetime(value)
    return expected


@pytest.mark.parametrize("when", INSTANTS, ids=str)
def test_every_timestamp_of_a_game_is_the_instant_to_the_microsecond(when: datetime) -> None:
    message = converters.game_to_proto(game(1, when=when))
    for field in ("create_time", "update_time", "release_time", "store_update_time"):
        assert getattr(message, field) == stamp(when), field


def test_unset_times_stay_unset() -> None:
    bare = Game(1, GameFields(display_name="x", platform=Platform.ANDROID, store_id="s"), "e", NOW, NOW)
    message = converters.game_to_proto(bare)
    assert not message.HasField("release_time")
    assert not message.HasField("store_update_time")
    assert not message.HasField("rating")
    assert message.last_import == ""


def test_a_rendered_page_is_the_domain_page_with_each_game_built_once() -> None:
    games = [game(n, name_length=10 if n < 30 else (n * 7919) % 3000) for n in range(60)]
    budget = PageBudget(converters.wire_size, max_message_bytes=HEADROOM_BYTES + 20_000)
    built: list[int] = []

    def render(item: Game) -> pb.Game:
        built.append(item.id)
        return converters.game_to_proto(item)

    counted = Rendering(render, converters.GAME_MESSAGES.size_of)
    rest, cuts = games, set()
    while rest:
        page, more = budget.take(rest, 25)
        built.clear()
        assert budget.take_rendered(rest, 25, counted) == ([converters.game_to_proto(g) for g in page], more)
        # Built once each; past the count nothing more is built, past the bytes the one that did not fit.
        cut_by_bytes = more and len(page) < 25
        assert built == [g.id for g in rest[: len(page) + cut_by_bytes]]
        cuts.add("bytes" if cut_by_bytes else "count" if more else "end")
        rest = rest[len(page) :]
    assert cuts == {"bytes", "count", "end"}
