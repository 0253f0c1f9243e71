import uuid

import pytest

from catalog.model import ImportSource, Platform
from catalog.storage.database import transaction
from catalog.storage.imports import import_games
from gamekit.errors import InvalidArgument
from tests.fixtures.postgres import make_fields

NAMES = [
    "Pokémon GO",
    "POKÉMON Masters EX",
    "Pokemon",
    "Pokémon Café ReMix",
    "Detective Pikachu & Pokémon",
    "Super Pokemonish Adventure",
    "Candy Crush Saga",
    "Clash of Clans",
]


@pytest.fixture
def games(catalog_service):
    created = {}
    for n, name in enumerate(NAMES):
        platform = Platform.ANDROID if name.startswith("Candy") else Platform.IOS
        fields = make_fields(n, display_name=name, platform=platform)
        created[name] = catalog_service.create_game(fields, request_id=str(uuid.uuid4()))
    return created


def names(page):
    return [game.fields.display_name for game in page.items]


def search(service, query, platform=None, page_size=0, page_token=""):
    return service.search_games(query=query, platform=platform, page_size=page_size, page_token=page_token)


def test_accent_and_case_insensitive(catalog_service, games):
    found = names(search(catalog_service, "pokemon go"))
    assert found[0] == "Pokémon GO"
    assert "Pokémon GO" in names(search(catalog_service, "POKÉMON"))
    assert set(names(search(catalog_service, "pokemon"))) == {n for n in NAMES if "ok" in n.lower()}


def test_partial_match_inside_words(catalog_service, games):
    assert set(names(search(catalog_service, "kemo"))) == {n for n in NAMES if "ok" in n.lower()}
    assert names(search(catalog_service, "rush")) == ["Candy Crush Saga"]
    assert names(search(catalog_service, "no such game")) == []


def test_ranking_exact_then_prefix_then_word_then_substring(catalog_service, games):
    ranked = names(search(catalog_service, "pokemon"))
    assert ranked[0] == "Pokemon"  # exact
    assert set(ranked[1:4]) == {"Pokémon GO", "POKÉMON Masters EX", "Pokémon Café ReMix"}  # prefix
    assert ranked[4:] == ["Detective Pikachu & Pokémon", "Super Pokemonish Adventure"]  # word prefix
    assert names(search(catalog_service, "emon"))[-1] == "Super Pokemonish Adventure"


def test_platform_filter(catalog_service, games):
    assert names(search(catalog_service, "candy", platform=Platform.ANDROID)) == ["Candy Crush Saga"]
    assert names(search(catalog_service, "candy", platform=Platform.IOS)) == []


def test_empty_query_lists_everything_in_pages(catalog_service, games):
    first = search(catalog_service, "", page_size=5)
    assert len(first.items) == 5
    rest = search(catalog_service, "  ", page_size=5, page_token=first.next_page_token)
    assert [g.id for g in first.items + rest.items] == sorted(g.id for g in games.values())
    assert rest.next_page_token == ""


@pytest.mark.parametrize("query", ["po", "É ", "a\x00b", "x" * 201, "%%%", "a!!"])
def test_bad_queries_are_refused(catalog_service, games, query):
    with pytest.raises(InvalidArgument) as info:
        search(catalog_service, query)
    assert info.value.violations[0].field == "query"


def test_like_wildcards_are_literal(catalog_service, games):
    catalog_service.create_game(make_fields(50, display_name="100% Fun_Game"), request_id=str(uuid.uuid4()))
    assert names(search(catalog_service, "0% f")) == ["100% Fun_Game"]
    assert names(search(catalog_service, "n_g")) == ["100% Fun_Game"]


def test_pages_are_stable_under_concurrent_inserts(catalog_service, catalog_engine):
    batch = [
        make_fields(n, display_name=f"Puzzle {'Quest' if n % 3 else 'Questing'} {n}") for n in range(120)
    ]
    with transaction(catalog_engine) as conn:
        import_games(conn=conn, source=ImportSource(), batches=[batch])
    before = {g.id for g in catalog_service.list_games(platform=None, page_size=1000, page_token="").items}
    seen = []
    token = ""
    extra = 1000
    while True:
        page = search(catalog_service, "quest", page_size=7, page_token=token)
        seen += [g.id for g in page.items]
        # New matches at every rank land between pages.
        for name in ("Quest", "Quest extra", f"Side quest {extra}"):
            catalog_service.create_game(make_fields(extra, display_name=name), request_id=str(uuid.uuid4()))
            extra += 1
        if not page.next_page_token:
            break
        token = page.next_page_token
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


def test_search_token_is_bound_to_the_query(catalog_service, games):
    page = search(catalog_service, "pokemon", page_size=2)
    with pytest.raises(InvalidArgument) as info:
        search(catalog_service, "clash", page_size=2, page_token=page.next_page_token)
    assert info.value.violations[0].field == "page_token"
    with pytest.raises(InvalidArgument):
        search(catalog_service, "pokemon", platform=Platform.IOS, page_token=page.next_page_token)
    # The same query spelled differently normalises to the same key, so the token still fits.
    assert search(catalog_service, "POKÉMON", page_size=2, page_token=page.next_page_token).items
