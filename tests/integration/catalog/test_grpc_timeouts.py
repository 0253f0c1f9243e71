"""Statement and lock timeouts: a call stuck in PostgreSQL gives up in time and frees its connection.

A row or table lock held by another connection makes the catalog's statements wait. Each call must end
at the lock timeout, the caller's deadline or the server's statement maximum, whichever comes first,
with a clean status; and because it frees its pooled connection, a pool of POOL connections still
serves other calls after POOL (and more) such calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager

import grpc
import pytest

from gamekit.call_context import call_scope
from gamekit.errors import DeadlineExceeded
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from tests.fixtures.catalog import StartCatalog
from tests.fixtures.databases import holding
from tests.fixtures.pki import ChannelAs
from tests.fixtures.postgres import make_fields

POOL = 2
SMALL_POOL = {"db_pool_size": POOL, "db_max_overflow": 0, "db_pool_timeout_seconds": 1.0}


def stub(start_catalog: StartCatalog, channel_as: ChannelAs, database_url: str, identity: str, **settings):
    catalog = start_catalog(database_url, **SMALL_POOL, **settings)
    return pb_grpc.CatalogServiceStub(channel_as(catalog.target, identity))


def create(catalog: pb_grpc.CatalogServiceStub, name: str = "Locked game") -> pb.Game:
    game = pb.Game(display_name=name, platform=pb.PLATFORM_IOS, store_id=uuid.uuid4().hex)
    return catalog.CreateGame(pb.CreateGameRequest(game=game, request_id=str(uuid.uuid4())), timeout=10).game


def rename(catalog: pb_grpc.CatalogServiceStub, game: pb.Game, timeout: float) -> pb.Game:
    request = pb.UpdateGameRequest(
        game=pb.Game(name=game.name, display_name="Renamed"), update_mask={"paths": ["display_name"]}
    )
    return catalog.UpdateGame(request, timeout=timeout).game


def read(catalog: pb_grpc.CatalogServiceStub, game: pb.Game) -> pb.Game:
    return catalog.GetGame(pb.GetGameRequest(name=game.name), timeout=10).game


def game_id(game: pb.Game) -> int:
    return int(game.name.split("/")[1])


def row_locked(database_url: str, game: pb.Game) -> AbstractContextManager[None]:
    """The game's row locked by another connection until the block ends."""
    return holding(database_url, f"SELECT 1 FROM catalog.games WHERE id = {game_id(game)} FOR UPDATE")


def refused_more_times_than_the_pool(call: Callable[[], object], code: grpc.StatusCode, reason: str) -> None:
    """`call` fails with `code` and `reason` POOL + 1 times, each message free of SQL and table names."""
    for _ in range(POOL + 1):
        with pytest.raises(grpc.RpcError) as refused:
            call()
        details = error_details(refused.value)
        assert (details.code, details.reason) == (code, reason)
        lowered = details.message.lower()
        assert not any(word in lowered for word in ("select", "update ", "catalog.", "psycopg", "sql"))


def test_a_write_waiting_on_a_row_lock_gives_up_at_the_lock_timeout(
    start_catalog: StartCatalog, channel_as: ChannelAs, database_url: str
) -> None:
    catalog = stub(start_catalog, channel_as, database_url, "gateway", db_lock_timeout_seconds=0.2)
    game = create(catalog)
    with row_locked(database_url, game):
        refused_more_times_than_the_pool(
            lambda: rename(catalog, game, timeout=10), grpc.StatusCode.UNAVAILABLE, "LOCK_TIMEOUT"
        )
        # Every connection came back to the pool: reads of the locked game still answer.
        assert read(catalog, game).display_name == "Locked game"
    assert rename(catalog, game, timeout=10).display_name == "Renamed"


def test_a_call_whose_deadline_passes_in_a_lock_wait_frees_its_connection(
    start_catalog: StartCatalog, channel_as: ChannelAs, database_url: str
) -> None:
    catalog = stub(start_catalog, channel_as, database_url, "gateway", db_lock_timeout_seconds=60)
    game = create(catalog)
    with row_locked(database_url, game):
        for _ in range(POOL + 1):
            with pytest.raises(grpc.RpcError) as late:
                rename(catalog, game, timeout=0.5)
            assert late.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
        # The statements ended with their callers' deadlines, not when the lock goes.
        assert read(catalog, game).display_name == "Locked game"


def test_the_domain_answers_deadline_exceeded_when_the_deadline_ends_the_statement(
    catalog_service, database_url: str
) -> None:
    game = catalog_service.create_game(make_fields(1), request_id=str(uuid.uuid4()))
    locked = f"SELECT 1 FROM catalog.games WHERE id = {game.id} FOR UPDATE"
    with (
        holding(database_url, locked),
        call_scope("request-1", remaining=0.3),
        pytest.raises(DeadlineExceeded) as late,
    ):
        catalog_service.delete_game(game.id)
    assert late.value.reason == "DEADLINE_EXCEEDED"
    assert catalog_service.get_game(game.id) == game


def test_a_statement_past_the_server_maximum_is_resource_exhausted(
    start_catalog: StartCatalog, channel_as: ChannelAs, database_url: str
) -> None:
    catalog = stub(
        start_catalog,
        channel_as,
        database_url,
        "gateway",
        db_statement_timeout_seconds=0.3,
        db_lock_timeout_seconds=60,
    )
    game = create(catalog)
    with row_locked(database_url, game):
        refused_more_times_than_the_pool(
            lambda: rename(catalog, game, timeout=10), grpc.StatusCode.RESOURCE_EXHAUSTED, "QUERY_TIMEOUT"
        )
        assert read(catalog, game).display_name == "Locked game"


def test_an_import_waiting_for_the_games_table_gives_up_at_the_lock_timeout(
    start_catalog: StartCatalog, channel_as: ChannelAs, database_url: str
) -> None:
    catalog = start_catalog(database_url, **SMALL_POOL, db_lock_timeout_seconds=0.2)
    gateway = pb_grpc.CatalogServiceStub(channel_as(catalog.target, "gateway"))
    ingestion = pb_grpc.CatalogServiceStub(channel_as(catalog.target, "ingestion"))
    game = create(gateway)

    def imported() -> pb.Import:
        source = pb.ImportSource(bucket="deliveries", key="2026-12-01/ios.top100.json", etag="e1")
        batch = [pb.Game(display_name="Imported", platform=pb.PLATFORM_IOS, store_id="imported-1")]
        requests = [
            pb.ImportGamesRequest(header=pb.ImportHeader(source=source)),
            pb.ImportGamesRequest(batch=pb.ImportBatch(games=batch)),
            pb.ImportGamesRequest(commit=pb.ImportCommit(game_count=1)),
        ]
        return ingestion.ImportGames(iter(requests), timeout=10).import_record

    # An uncommitted write to the games table: the publish's table lock must wait for it.
    with holding(database_url, f"UPDATE catalog.games SET rating = 1 WHERE id = {game_id(game)}"):
        refused_more_times_than_the_pool(imported, grpc.StatusCode.UNAVAILABLE, "LOCK_TIMEOUT")
        assert read(gateway, game).name == game.name
    assert imported().created_count == 1


@pytest.mark.parametrize("query", ["!!!", "...", "- - -", "a!!", "«»¿", "%%%"])
def test_a_search_the_trigram_index_cannot_serve_is_refused(
    start_catalog: StartCatalog, channel_as: ChannelAs, database_url: str, query: str
) -> None:
    catalog = stub(start_catalog, channel_as, database_url, "gateway")
    with pytest.raises(grpc.RpcError) as refused:
        catalog.SearchGames(pb.SearchGamesRequest(query=query), timeout=10)
    details = error_details(refused.value)
    assert details.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in details.field_violations] == ["query"]
    assert "letters or digits" in details.field_violations[0].description
