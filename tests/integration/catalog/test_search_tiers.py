"""Search in tiers read from indexes: pages that cost the same at any number of matches, the index kept by
the database through every kind of write, misspellings found, paging across tiers exact."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from catalog.app import page_budget
from catalog.domain.service import CatalogService
from catalog.model import GameUpdate, ImportSource, Platform
from catalog.storage.database import transaction
from catalog.storage.imports import import_games
from catalog.storage.migrate import downgrade, upgrade
from catalog.storage.revision import RevisionFeed
from catalog.storage.rollback import rollback_import
from catalog.storage.search import SearchLimits
from gamekit.paging.tokens import PageTokens
from tests.fixtures.postgres import make_fields

INDEXES = ("name_suffixes", "name_words")


def names(page) -> list[str]:
    return [game.fields.display_name for game in page.items]


def search(service: CatalogService, query: str, **options: Any):
    options = {"platform": None, "page_size": 0, "page_token": ""} | options
    return service.search_games(query=query, **options)


def every_page(service: CatalogService, query: str, page_size: int, **options: Any) -> Iterator[list[str]]:
    token = ""
    while True:
        page = search(service, query, page_size=page_size, page_token=token, **options)
        yield names(page)
        if not (token := page.next_page_token):
            return


def create(service: CatalogService, n: int, name: str, platform: Platform = Platform.IOS) -> int:
    fields = make_fields(n, display_name=name, platform=platform)
    return service.create_game(fields, request_id=str(uuid.uuid4())).id


def rows_read(engine: Engine, run: Callable[[], object]) -> int:
    """Rows every statement `run` sends reads from the name index tables, as EXPLAIN ANALYZE counts them."""
    sent: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    total = 0
    with engine.connect() as conn:
        for statement, parameters in sent:
            if not any(table in statement for table in INDEXES):
                continue
            explained = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
            plan = explained.scalar_one()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            total += _rows_from_indexes(plan[0]["Plan"])
    return total


def _rows_from_indexes(node: dict[str, Any]) -> int:
    """Rows a plan's nodes on the index tables produced or read and dropped (a scan's filter)."""
    own = 0.0
    if node.get("Relation Name") in INDEXES:
        produced = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
        own = produced * node["Actual Loops"]
    return round(own) + sum(_rows_from_indexes(child) for child in node.get("Plans", ()))


@pytest.fixture
def crowded(catalog_engine: Engine) -> Callable[[int], None]:
    """6,000 games, `n` named 'Quest i' and `n` 'Puzzle Quest i', the rest unrelated; then ANALYZE."""

    def fill(n: int) -> None:
        batch = [make_fields(i, display_name=f"Quest {i}") for i in range(n)]
        batch += [make_fields(n + i, display_name=f"Puzzle Quest {i}") for i in range(n)]
        batch += [
            make_fields(i, display_name=f"Filler Title {i}", platform=Platform.ANDROID)
            for i in range(2 * n, 6000)
        ]
        with transaction(catalog_engine) as conn:
            import_games(conn=conn, source=ImportSource(), batches=[batch])
        with catalog_engine.begin() as conn:
            conn.execute(text("ANALYZE catalog.games, catalog.name_suffixes, catalog.name_words"))

    return fill


@pytest.mark.parametrize("matches", [30, 3000])
def test_a_page_reads_the_same_rows_at_any_number_of_matches(
    catalog_service, catalog_engine, crowded, matches
):
    crowded(matches)
    first = search(catalog_service, "quest", page_size=10)
    assert names(first)[:2] == ["Quest 0", "Quest 1"]
    assert rows_read(catalog_engine, lambda: search(catalog_service, "quest", page_size=10)) <= 30
    # A page deep into the word tier, by keyset: as cheap as the first.
    token = first.next_page_token
    for _ in range(matches // 10 + 2):
        page = search(catalog_service, "quest", page_size=10, page_token=token)
        token = page.next_page_token
    assert names(page)[0].startswith("Puzzle Quest")
    deep = rows_read(catalog_engine, lambda: search(catalog_service, "quest", page_size=10, page_token=token))
    assert deep <= 30


def test_the_similar_tier_weighs_a_bounded_number_of_candidates(catalog_engine, crowded):
    crowded(3000)
    service = CatalogService(
        engine=catalog_engine,
        revision_feed=RevisionFeed(engine=catalog_engine),
        page_tokens=PageTokens(b"test-page-token-key-0123456789ab"),
        page_budget=page_budget(),
        search_limits=SearchLimits(similar_candidates=40),
    )
    found = [name for page in every_page(service, "qest", 25) for name in page]
    assert 0 < len(found) <= 40
    assert all("quest" in name.lower() for name in found)
    assert rows_read(catalog_engine, lambda: search(service, "qest", page_size=25)) <= 40 * 6 + 100


def test_later_pages_of_the_similar_tier_skip_the_vocabulary_search(catalog_service, catalog_engine, crowded):
    crowded(300)
    first = search(catalog_service, "qest", page_size=10)
    assert len(first.items) == 10
    assert first.next_page_token
    sent: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)

    event.listen(catalog_engine, "before_cursor_execute", capture)
    try:
        second = search(catalog_service, "qest", page_size=10, page_token=first.next_page_token)
    finally:
        event.remove(catalog_engine, "before_cursor_execute", capture)
    assert not any("name_words" in statement for statement in sent)
    assert len(second.items) == 10
    assert not {g.id for g in first.items} & {g.id for g in second.items}


def test_misspellings_and_fragments_are_found_after_the_prefixes(catalog_service):
    for n, name in enumerate(["Pokémon GO", "Pokemon Quest", "Poker Night", "Super Pokemonish Adventure"]):
        create(catalog_service, n, name)
    assert set(names(search(catalog_service, "pokeman"))) >= {"Pokémon GO", "Pokemon Quest"}
    assert names(search(catalog_service, "kemon"))[-1] == "Super Pokemonish Adventure"
    assert names(search(catalog_service, "pokemon go"))[0] == "Pokémon GO"
    assert "Poker Night" not in names(search(catalog_service, "pokemon go"))
    assert names(search(catalog_service, "zzzzqqq")) == []


def test_paging_across_the_tiers_is_the_one_big_page_in_pieces(catalog_service):
    titles = [
        "Quest",
        "Quest for Glory",
        "Questing Knights",
        "Side Quest",
        "Puzzle Quest Quest",
        "The Conquest",
        "Android Quest",
    ]
    for n, name in enumerate(titles):
        create(catalog_service, n, name, Platform.ANDROID if name.startswith("Android") else Platform.IOS)
    whole = names(search(catalog_service, "quest", page_size=100))
    assert whole[:3] == ["Quest", "Quest for Glory", "Questing Knights"]  # the name tier, exact first
    # The word tier, by the name from the matching word on ("quest", "quest", "quest quest"), then id.
    assert whole[3:6] == ["Side Quest", "Android Quest", "Puzzle Quest Quest"]
    assert whole.count("Puzzle Quest Quest") == 1
    assert "The Conquest" in whole[6:]  # a fragment inside a word: the similar tier
    for size in (1, 2, 3, 5):
        assert [name for page in every_page(catalog_service, "quest", size) for name in page] == whole
    ios = names(search(catalog_service, "quest", page_size=100, platform=Platform.IOS))
    assert ios == [name for name in whole if name != "Android Quest"]


def test_every_write_keeps_the_name_index(catalog_service, catalog_engine):
    kept = create(catalog_service, 1, "Old Name Saga")
    gone = create(catalog_service, 2, "Doomed Saga")
    renamed = make_fields(1, display_name="Brand New Saga")
    catalog_service.update_game(GameUpdate(game_id=kept, values=renamed, paths=("display_name",)))
    catalog_service.delete_game(gone)
    assert names(search(catalog_service, "saga")) == ["Brand New Saga"]
    assert names(search(catalog_service, "brand new")) == ["Brand New Saga"]
    assert names(search(catalog_service, "old name")) == []

    with transaction(catalog_engine) as conn:
        imported = import_games(
            conn=conn,
            source=ImportSource(bucket="b", key="k", etag="e"),
            batches=[
                [make_fields(1, display_name="Imported Saga"), make_fields(3, display_name="Third Saga")]
            ],
        )
    assert names(search(catalog_service, "saga")) == ["Imported Saga", "Third Saga"]
    with transaction(catalog_engine) as conn:
        rollback_import(conn=conn, import_id=imported.id)
    assert names(search(catalog_service, "saga")) == ["Brand New Saga"]
    assert names(search(catalog_service, "saga", platform=Platform.ANDROID)) == []


def test_the_migration_indexes_the_games_already_there(database_url, catalog_service):
    downgrade(database_url, "0002")
    with catalog_service._engine.begin() as conn:  # the games table as 0002 left it
        conn.execute(
            text(
                "INSERT INTO catalog.games (platform, store_id, display_name, etag) VALUES "
                "('ios', 'a', 'Café Racer', 'e1'), ('android', 'b', 'Grand Café', 'e2')"
            )
        )
    upgrade(database_url)
    assert names(search(catalog_service, "cafe")) == ["Café Racer", "Grand Café"]
    assert names(search(catalog_service, "racer", platform=Platform.IOS)) == ["Café Racer"]
