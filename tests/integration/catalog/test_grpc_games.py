"""CatalogService over real mTLS gRPC on a real database: CRUD, search, pages, etags, bad input."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as pb
from tests.fixtures.catalog import CatalogStubAs


def new_game(n: int, **overrides: object) -> pb.Game:
    values: dict[str, object] = {
        "display_name": f"Game {n}",
        "platform": pb.PLATFORM_IOS,
        "store_id": f"store-{n}",
        "bundle_id": f"com.example.game{n}",
        "publisher_name": "Example Games",
        "categories": ["Games"],
        "rating": 4.5,
        **overrides,
    }
    return pb.Game(**values)  # type: ignore[arg-type]


def create(stub: object, game: pb.Game) -> pb.Game:
    reply = stub.CreateGame(pb.CreateGameRequest(game=game, request_id=str(uuid.uuid4())))  # type: ignore[attr-defined]
    return reply.game


def test_create_get_update_delete(catalog_as: CatalogStubAs) -> None:
    gateway = catalog_as("gateway")
    created = create(gateway, new_game(1, display_name="Pokémon GO", price=0.0))
    assert created.name.startswith("games/")
    assert created.etag
    assert created.create_time.seconds > 0
    assert created.HasField("price")
    assert not created.HasField("best_rank")

    fetched = gateway.GetGame(pb.GetGameRequest(name=created.name)).game
    assert fetched == created

    change = pb.Game(
        name=created.name, display_name="Pokémon GO!", publisher_name="ignored", etag=created.etag
    )
    updated = gateway.UpdateGame(
        pb.UpdateGameRequest(game=change, update_mask=FieldMask(paths=["display_name"]))
    ).game
    assert updated.display_name == "Pokémon GO!"
    assert updated.publisher_name == "Example Games", "a field outside the mask must not change"
    assert updated.etag != created.etag

    with pytest.raises(grpc.RpcError) as stale:
        gateway.UpdateGame(pb.UpdateGameRequest(game=change, update_mask=FieldMask(paths=["display_name"])))
    assert stale.value.code() == grpc.StatusCode.ABORTED

    gateway.DeleteGame(pb.DeleteGameRequest(name=created.name, etag=updated.etag))
    with pytest.raises(grpc.RpcError) as gone:
        gateway.GetGame(pb.GetGameRequest(name=created.name))
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND


def test_create_is_idempotent_on_request_id_and_unique_on_store_id(catalog_as: CatalogStubAs) -> None:
    gateway = catalog_as("gateway")
    request = pb.CreateGameRequest(game=new_game(1), request_id=str(uuid.uuid4()))
    first = gateway.CreateGame(request).game
    again = gateway.CreateGame(request).game
    assert again.name == first.name

    with pytest.raises(grpc.RpcError) as duplicate:
        create(gateway, new_game(1, display_name="Another name, same store id"))
    assert duplicate.value.code() == grpc.StatusCode.ALREADY_EXISTS
    listed = gateway.ListGames(pb.ListGamesRequest()).games
    assert [g.name for g in listed] == [first.name]


def test_search_is_partial_case_and_accent_insensitive(catalog_as: CatalogStubAs) -> None:
    gateway = catalog_as("gateway")
    create(gateway, new_game(1, display_name="Pokémon GO"))
    create(gateway, new_game(2, display_name="POKEMON Quest", platform=pb.PLATFORM_ANDROID))
    create(gateway, new_game(3, display_name="Candy Crush Saga"))

    def names(**request: object) -> list[str]:
        reply = gateway.SearchGames(pb.SearchGamesRequest(**request))  # type: ignore[arg-type]
        return [g.display_name for g in reply.games]

    assert sorted(names(query="pokemon")) == ["POKEMON Quest", "Pokémon GO"]
    assert names(query="kémo", platform=pb.PLATFORM_ANDROID) == ["POKEMON Quest"]
    assert names(query="CRUSH") == ["Candy Crush Saga"]
    assert len(names(query="")) == 3, "an empty query lists every game, as the old app did"


def test_pages_walk_every_game_once(catalog_as: CatalogStubAs) -> None:
    gateway = catalog_as("gateway")
    created = {create(gateway, new_game(n)).name for n in range(7)}
    seen: list[str] = []
    token = ""
    while True:
        reply = gateway.ListGames(pb.ListGamesRequest(page_size=3, page_token=token))
        seen += [g.name for g in reply.games]
        token = reply.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(created)

    first = gateway.ListGames(pb.ListGamesRequest(page_size=3))
    forged = first.next_page_token[:-2] + ("AA" if not first.next_page_token.endswith("AA") else "BB")
    with pytest.raises(grpc.RpcError) as bad:
        gateway.ListGames(pb.ListGamesRequest(page_size=3, page_token=forged))
    details = error_details(bad.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in details.field_violations] == ["page_token"]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (
            pb.CreateGameRequest(game=new_game(1, display_name=""), request_id=str(uuid.uuid4())),
            "game.display_name",
        ),
        (
            pb.CreateGameRequest(
                game=new_game(1, display_name="x" * 1_000_000), request_id=str(uuid.uuid4())
            ),
            "game.display_name",
        ),
        (
            pb.CreateGameRequest(
                game=new_game(1, publisher_name="bad\x00byte"), request_id=str(uuid.uuid4())
            ),
            "game.publisher_name",
        ),
        (pb.CreateGameRequest(game=new_game(1, platform=7), request_id=str(uuid.uuid4())), "game.platform"),  # type: ignore[arg-type]
        (pb.CreateGameRequest(game=new_game(1), request_id=""), "request_id"),
        (
            pb.CreateGameRequest(game=new_game(1, icon_uri="http://[::1"), request_id=str(uuid.uuid4())),
            "game.icon_uri",
        ),
        (
            pb.CreateGameRequest(
                game=new_game(1, release_time=Timestamp(seconds=0, nanos=-1)), request_id=str(uuid.uuid4())
            ),
            "game.release_time",
        ),
        (
            pb.CreateGameRequest(
                game=new_game(1, store_update_time=Timestamp(seconds=10**12)), request_id=str(uuid.uuid4())
            ),
            "game.store_update_time",
        ),
    ],
    ids=[
        "empty-name",
        "1MB-name",
        "nul-byte",
        "unknown-enum",
        "no-request-id",
        "unclosed-ipv6-uri",
        "negative-nanos",
        "year-past-9999",
    ],
)
def test_bad_create_is_invalid_argument_and_writes_nothing(
    catalog_as: CatalogStubAs, request_: pb.CreateGameRequest, field: str
) -> None:
    gateway = catalog_as("gateway")
    with pytest.raises(grpc.RpcError) as bad:
        gateway.CreateGame(request_)
    details = error_details(bad.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in [v.field for v in details.field_violations]
    assert len(details.message) < 200, "the reply must not echo a huge input back"
    assert gateway.ListGames(pb.ListGamesRequest()).games == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.ListGames(pb.ListGamesRequest(page_size=-1)), "page_size"),
        (lambda s: s.ListGames(pb.ListGamesRequest(page_size=1_000_000)), "page_size"),
        (lambda s: s.ListGames(pb.ListGamesRequest(platform=42)), "platform"),
        (lambda s: s.SearchGames(pb.SearchGamesRequest(query="po")), "query"),
        (lambda s: s.GetGame(pb.GetGameRequest(name="games/abc")), "name"),
        (lambda s: s.GetGame(pb.GetGameRequest(name="")), "name"),
        (lambda s: s.UpdateGame(pb.UpdateGameRequest(game=pb.Game(name="games/1"))), "update_mask"),
    ],
    ids=[
        "negative-page",
        "huge-page",
        "unknown-platform",
        "short-query",
        "bad-name",
        "empty-name",
        "no-mask",
    ],
)
def test_bad_reads_are_invalid_argument_with_the_field(
    catalog_as: CatalogStubAs, call: object, field: str
) -> None:
    with pytest.raises(grpc.RpcError) as bad:
        call(catalog_as("gateway"))  # type: ignore[operator]
    details = error_details(bad.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in details.field_violations] == [field]
