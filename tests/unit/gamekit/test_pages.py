"""PageBudget: a page stops at its count or before its bytes would pass the budget, whichever is first."""

from __future__ import annotations

import pytest

from gamekit.paging.pages import HEADROOM_BYTES, MAX_MESSAGE_BYTES, PageBudget
from games.catalog.v1 import catalog_pb2 as pb

LIMIT = HEADROOM_BYTES + 10_000  # a 10 kB budget


def game(n: int, size: int) -> pb.Game:
    return pb.Game(name=f"games/{n}", display_name="x" * size)


def budget(limit: int = LIMIT) -> PageBudget:
    return PageBudget(lambda message: message.ByteSize(), max_message_bytes=limit)


def test_the_budget_is_the_message_limit_less_the_headroom() -> None:
    assert budget(MAX_MESSAGE_BYTES).bytes == MAX_MESSAGE_BYTES - HEADROOM_BYTES
    with pytest.raises(ValueError, match="headroom"):
        budget(HEADROOM_BYTES)


def test_a_page_stops_at_its_count_when_the_items_are_small() -> None:
    games = [game(n, 10) for n in range(5)]
    assert budget().take(games, 3) == (games[:3], True)
    assert budget().take(games, 5) == (games, False)
    assert budget().take(games[:0], 5) == ([], False)


@pytest.mark.parametrize("size", [10, 100, 999, 2500, 4999])
def test_a_page_takes_every_item_that_fits_the_budget_and_no_more(size: int) -> None:
    games = [game(n, size) for n in range(1000)]
    page, more = budget().take(games, 1000)
    assert more
    assert pb.ListGamesResponse(games=page).ByteSize() <= budget().bytes
    # Each item's tag and length prefix are counted at their largest: 7 bytes.
    assert sum(g.ByteSize() + 7 for g in games[: len(page) + 1]) > budget().bytes


def test_one_item_over_the_budget_still_makes_a_page_of_its_own() -> None:
    games = [game(1, 20_000), game(2, 10)]
    assert budget().take(games, 1000) == ([games[0]], True)
    assert budget().take(games[1:], 1000) == ([games[1]], False)


def test_reading_page_after_page_yields_every_item_once() -> None:
    games = [game(n, (n * 7919) % 4000) for n in range(200)]
    rest, seen = games, []
    while rest:
        page, more = budget().take(rest, 1000)
        assert page
        seen += page
        rest = rest[len(page) :]
        assert more == bool(rest)
    assert seen == games
