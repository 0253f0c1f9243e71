"""Listings as the servicer takes them: the messages it sends, each built once, paged as the domain pages."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from catalog.domain.service import CatalogService
from catalog.model import Game, ImportSource, Page, Platform
from catalog.storage.database import transaction
from catalog.storage.imports import import_games
from catalog.transport import converters
from gamekit.paging.pages import Rendering
from games.catalog.v1 import catalog_pb2 as pb
from tests.fixtures.postgres import make_fields

NAMES = ("Quest Heroes", "Royal Quest", "Quest", "Qest Legends", "Tiny Farm")


@pytest.fixture
def seeded(catalog_engine) -> None:
    batch = [
        make_fields(
            n,
            display_name=f"{NAMES[n % len(NAMES)]} {n}",
            platform=Platform.IOS if n % 2 else Platform.ANDROID,
            categories=("Games",) * (n % 4),
            release_time=None if n % 3 else datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
        )
        for n in range(120)
    ]
    with transaction(catalog_engine) as conn:
        import_games(conn=conn, source=ImportSource(bucket="b", key="one"), batches=[batch])
    with transaction(catalog_engine) as conn:
        import_games(conn=conn, source=ImportSource(bucket="b", key="two"), batches=[batch[:5]])


class Counted:
    """The servicer's rendering of games, counting what it builds."""

    def __init__(self) -> None:
        self.built: list[int] = []
        self.rendering = Rendering(self._render, converters.GAME_MESSAGES.size_of)

    def _render(self, game: Game) -> pb.Game:
        self.built.append(game.id)
        return converters.game_to_proto(game)


def pages(call: Callable[..., Page[Any]], **options: Any) -> Iterator[Page[Any]]:
    token = ""
    while True:
        page = call(page_token=token, **options)
        yield page
        if not page.next_page_token:
            return
        token = page.next_page_token


LISTINGS: dict[str, Callable[..., Page[Any]]] = {
    "list": lambda service, **o: service.list_games(platform=None, **o),
    "list ios": lambda service, **o: service.list_games(platform=Platform.IOS, **o),
    "search word": lambda service, **o: service.search_games(query="quest", platform=None, **o),
    "search similar": lambda service, **o: service.search_games(query="qest", platform=None, **o),
    "search empty": lambda service, **o: service.search_games(query="", platform=None, **o),
}


@pytest.mark.parametrize("listing", sorted(LISTINGS))
def test_a_rendered_listing_is_the_domain_listing_in_messages_built_once(
    catalog_service: CatalogService, seeded: None, listing: str
) -> None:
    call = functools.partial(LISTINGS[listing], catalog_service)
    counted = Counted()
    domain = list(pages(call, page_size=7))
    rendered = []
    for page in pages(call, page_size=7, rendering=counted.rendering):
        rendered.append(page)
        assert counted.built == [int(message.name.removeprefix("games/")) for message in page.items]
        counted.built.clear()
    assert len(domain) > 2
    assert [(p.next_page_token, list(map(converters.game_to_proto, p.items))) for p in domain] == [
        (p.next_page_token, p.items) for p in rendered
    ]


def test_a_rendered_import_listing_is_the_domain_listing(catalog_service: CatalogService, seeded) -> None:
    domain = list(pages(catalog_service.list_imports, page_size=1))
    rendered = list(pages(catalog_service.list_imports, page_size=1, rendering=converters.IMPORT_MESSAGES))
    assert [(p.next_page_token, list(map(converters.import_to_proto, p.items))) for p in domain] == [
        (p.next_page_token, p.items) for p in rendered
    ]
    assert len(rendered) == 2
