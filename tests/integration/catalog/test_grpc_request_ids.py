"""CreateGame's request id per AIP-155, over real mTLS gRPC on a real database.

The id is scoped to the caller (the gateway's forwarded key id, or a direct peer's SPIFFE id), a reuse
with another request is refused, a retry answers what the first call answered even after the game
changed or was deleted, and ids expire after CATALOG_REQUEST_ID_TTL_SECONDS.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import create_engine, text

from gamekit.call_context import CALLER_HEADER
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from tests.fixtures.catalog import CatalogStubAs, RunningCatalog, StartCatalog
from tests.fixtures.pki import ChannelAs

CREATE_GAME = "/games.catalog.v1.CatalogService/CreateGame"


def game(n: int, **overrides: Any) -> pb.Game:
    values: dict[str, Any] = {"display_name": f"Game {n}", "store_id": f"store-{n}", **overrides}
    return pb.Game(platform=pb.PLATFORM_IOS, **values)


def as_caller(caller: str) -> list[tuple[str, str]]:
    """The metadata the gateway sends when it calls for the API key `caller`."""
    return [(CALLER_HEADER, caller)]


def create_for(stub: pb_grpc.CatalogServiceStub, caller: str, new: pb.Game, request_id: str) -> pb.Game:
    """CreateGame as the gateway calls it for the API key `caller`: the game it answers."""
    request = pb.CreateGameRequest(game=new, request_id=request_id)
    return stub.CreateGame(request, metadata=as_caller(caller)).game


def listed(stub: pb_grpc.CatalogServiceStub) -> list[str]:
    return [g.display_name for g in stub.ListGames(pb.ListGamesRequest()).games]


def test_a_retry_answers_the_first_answer_after_the_game_changed_and_was_deleted(
    catalog_as: CatalogStubAs,
) -> None:
    gateway = catalog_as("gateway")
    request = pb.CreateGameRequest(game=game(1), request_id=str(uuid.uuid4()))
    first = gateway.CreateGame(request, metadata=as_caller("alice"))
    assert gateway.CreateGame(request, metadata=as_caller("alice")) == first

    change = pb.Game(name=first.game.name, display_name="Renamed")
    gateway.UpdateGame(pb.UpdateGameRequest(game=change, update_mask=FieldMask(paths=["display_name"])))
    assert gateway.CreateGame(request, metadata=as_caller("alice")) == first

    gateway.DeleteGame(pb.DeleteGameRequest(name=first.game.name))
    assert gateway.CreateGame(request, metadata=as_caller("alice")) == first
    assert listed(gateway) == [], "a retry must not create the deleted game again"


def test_unknown_fields_do_not_make_a_retry_another_request(
    catalog: RunningCatalog, channel_as: ChannelAs
) -> None:
    create = channel_as(catalog.target, "gateway").unary_unary(
        CREATE_GAME, response_deserializer=pb.CreateGameResponse.FromString
    )
    request = pb.CreateGameRequest(game=game(1), request_id=str(uuid.uuid4())).SerializeToString()
    unknown_field = b"\xa0\x06\x01"  # field 100, varint 1: not in this version of the contract
    first = create(request, metadata=as_caller("alice"))
    assert create(request + unknown_field, metadata=as_caller("alice")) == first


def test_the_same_id_with_another_request_is_refused(catalog_as: CatalogStubAs) -> None:
    gateway = catalog_as("gateway")
    request_id = str(uuid.uuid4())
    create_for(gateway, "alice", game(1), request_id)
    for other in (game(2), game(1, display_name="Another name"), game(1, publisher_name="Someone")):
        with pytest.raises(grpc.RpcError) as reused:
            create_for(gateway, "alice", other, request_id)
        details = error_details(reused.value)
        assert details.code == grpc.StatusCode.INVALID_ARGUMENT
        assert details.reason == "REQUEST_ID_REUSED"
        assert [v.field for v in details.field_violations] == ["request_id"]
    assert listed(gateway) == ["Game 1"]


def test_the_same_id_from_another_caller_is_another_request(catalog_as: CatalogStubAs) -> None:
    gateway = catalog_as("gateway")
    request_id = str(uuid.uuid4())
    alice = create_for(gateway, "alice", game(1), request_id)
    bob = create_for(gateway, "bob", game(2), request_id)
    # The gateway's own identity, calling without a forwarded key, is a caller of its own too.
    direct = gateway.CreateGame(pb.CreateGameRequest(game=game(3), request_id=request_id)).game
    assert len({alice.name, bob.name, direct.name}) == 3
    assert sorted(listed(gateway)) == ["Game 1", "Game 2", "Game 3"]

    # Bob's copy of Alice's request is his own first create: it collides on the store id, not the request id.
    with pytest.raises(grpc.RpcError) as taken:
        create_for(gateway, "carol", game(1), request_id)
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert create_for(gateway, "alice", game(1), request_id) == alice


def test_an_expired_request_id_is_a_new_request_and_expired_ids_are_purged(
    start_catalog: StartCatalog, database_url: str, channel_as: ChannelAs
) -> None:
    catalog = start_catalog(database_url, request_id_ttl_seconds=0.000001)
    gateway = pb_grpc.CatalogServiceStub(channel_as(catalog.target, "gateway"))
    request_id = str(uuid.uuid4())
    first = create_for(gateway, "alice", game(1), request_id)
    second = create_for(gateway, "alice", game(2), request_id)
    assert second.name != first.name
    for n in range(3, 6):
        gateway.CreateGame(pb.CreateGameRequest(game=game(n), request_id=str(uuid.uuid4())))
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT count(*) FROM catalog.request_ids")).scalar_one()
    finally:
        engine.dispose()
    assert kept == 1, "each create purges the ids that expired before it"


def test_concurrent_identical_creates_make_one_game_and_one_answer(catalog_as: CatalogStubAs) -> None:
    gateway = catalog_as("gateway")
    request = pb.CreateGameRequest(game=game(1), request_id=str(uuid.uuid4()))
    callers = 8
    barrier = threading.Barrier(callers)

    def create(_: int) -> pb.CreateGameResponse:
        barrier.wait()
        return gateway.CreateGame(request, metadata=as_caller("alice"), timeout=30)

    with ThreadPoolExecutor(callers) as pool:
        answers = list(pool.map(create, range(callers)))
    assert all(answer == answers[0] for answer in answers)
    assert listed(gateway) == ["Game 1"]
