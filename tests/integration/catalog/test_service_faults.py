import uuid

import pytest

from catalog.app import page_budget
from catalog.domain.service import CatalogService
from catalog.model import ImportSource
from catalog.storage.database import make_engine
from catalog.storage.migrate import upgrade
from catalog.storage.revision import RevisionFeed
from gamekit.errors import Unavailable
from gamekit.paging.tokens import PageTokens
from tests.fixtures.postgres import make_fields


@pytest.fixture
def service_on_private_server(private_postgres):
    url = private_postgres.create_database("catalog")
    upgrade(url)
    engine = make_engine(url, pool_size=2, max_overflow=0, pool_timeout=1)
    yield CatalogService(
        engine=engine,
        revision_feed=RevisionFeed(engine=engine),
        page_tokens=PageTokens(b"k" * 32),
        page_budget=page_budget(),
    )
    engine.dispose()


def calls(service, game_id):
    return [
        lambda: service.get_game(game_id),
        lambda: service.list_games(platform=None, page_size=0, page_token=""),
        lambda: service.search_games(query="game", platform=None, page_size=0, page_token=""),
        lambda: service.create_game(make_fields(5), request_id=str(uuid.uuid4())),
        lambda: service.import_games(ImportSource("b", "k", "e"), [[make_fields(6)]]),
        lambda: service.current_revision(),
    ]


@pytest.mark.parametrize("outage", ["stop", "kill"])
def test_database_down_is_unavailable_and_recovers(private_postgres, service_on_private_server, outage):
    service = service_on_private_server
    game = service.create_game(make_fields(1), request_id=str(uuid.uuid4()))
    assert service.ping()

    getattr(private_postgres, outage)()
    assert not service.ping()
    for call in calls(service, game.id):
        with pytest.raises(Unavailable) as info:
            call()
        assert info.value.message == "the catalog database is unavailable"
        assert info.value.__cause__ is not None

    private_postgres.start()
    assert service.ping()
    assert service.get_game(game.id) == game
    for call in calls(service, game.id):
        call()


def test_pool_exhaustion_is_unavailable(service_on_private_server):
    service = service_on_private_server
    engine = service._engine
    held = [engine.connect(), engine.connect()]
    try:
        with pytest.raises(Unavailable):
            service.get_game(1)
    finally:
        for conn in held:
            conn.close()
