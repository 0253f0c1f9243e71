import uuid

import pytest

from catalog.app import page_budget
from catalog.domain.service import CatalogService
from catalog.model import ImportSource, Platform
from catalog.storage.database import transaction
from catalog.storage.imports import import_games
from gamekit.errors import InvalidArgument
from gamekit.paging.tokens import PageTokens
from tests.fixtures.postgres import make_fields


@pytest.fixture
def seeded(catalog_engine):
    batch = [
        make_fields(n, platform=Platform.IOS if n % 2 else Platform.ANDROID, display_name=f"Seed {n}")
        for n in range(101)
    ]
    with transaction(catalog_engine) as conn:
        import_games(conn=conn, source=ImportSource(), batches=[batch])


def test_pages_cover_every_game_once_despite_concurrent_writes(catalog_service, seeded):
    existing = {g.id for g in catalog_service.list_games(platform=None, page_size=1000, page_token="").items}
    seen, token, n = [], "", 1000
    while True:
        page = catalog_service.list_games(platform=None, page_size=10, page_token=token)
        seen += [g.id for g in page.items]
        catalog_service.create_game(make_fields(n), request_id=str(uuid.uuid4()))
        n += 1
        if not page.next_page_token:
            break
        token = page.next_page_token
    assert len(seen) == len(set(seen))
    assert existing <= set(seen)


def test_platform_filter_and_default_page_size(catalog_service, seeded):
    ios = catalog_service.list_games(platform=Platform.IOS, page_size=0, page_token="")
    assert len(ios.items) == 50  # exactly the default page size, and all of them: no next page
    assert ios.next_page_token == ""
    assert {g.fields.platform for g in ios.items} == {Platform.IOS}
    android = catalog_service.list_games(platform=Platform.ANDROID, page_size=0, page_token="")
    assert len(android.items) == 50
    rest = catalog_service.list_games(
        platform=Platform.ANDROID, page_size=0, page_token=android.next_page_token
    )
    assert len(rest.items) == 1
    assert rest.next_page_token == ""


def test_exact_last_page_has_no_token(catalog_service, seeded):
    page = catalog_service.list_games(platform=None, page_size=101, page_token="")
    assert len(page.items) == 101
    assert page.next_page_token == ""


@pytest.mark.parametrize("size", [-1, 1001])
def test_bad_page_sizes(catalog_service, size):
    with pytest.raises(InvalidArgument) as info:
        catalog_service.list_games(platform=None, page_size=size, page_token="")
    assert info.value.violations[0].field == "page_size"


def test_forged_and_mismatched_tokens(catalog_service, catalog_engine, seeded):
    token = catalog_service.list_games(platform=None, page_size=10, page_token="").next_page_token
    for bad in [token[:-2], token + "AA", "garbage", token.swapcase()]:
        with pytest.raises(InvalidArgument) as info:
            catalog_service.list_games(platform=None, page_size=10, page_token=bad)
        assert info.value.violations[0].field == "page_token"
    with pytest.raises(InvalidArgument):  # another filter
        catalog_service.list_games(platform=Platform.IOS, page_size=10, page_token=token)
    with pytest.raises(InvalidArgument):  # another method
        catalog_service.list_imports(page_size=10, page_token=token)
    other_key = CatalogService(
        engine=catalog_engine,
        revision_feed=None,  # type: ignore[arg-type]
        page_tokens=PageTokens(b"a-different-key-for-this-service"),
        page_budget=page_budget(),
    )
    with pytest.raises(InvalidArgument):
        other_key.list_games(platform=None, page_size=10, page_token=token)
