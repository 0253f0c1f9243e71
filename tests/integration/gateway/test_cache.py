"""The response cache: hits, writes and revisions invalidating it, bypassed while the watch is down."""

from __future__ import annotations

import uuid

import grpc
import pytest
from prometheus_client import REGISTRY

from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from tests.fixtures.catalog import RunningCatalog, StartCatalog
from tests.fixtures.eventually import eventually
from tests.fixtures.gateway import OpenGatewayChannel, Platform
from tests.fixtures.wire import unknown_field


def lookups(method: str, result: str) -> float:
    return (
        REGISTRY.get_sample_value("gateway_cache_lookups_total", {"grpc_method": method, "result": result})
        or 0.0
    )


def handled(method: str) -> float:
    """CatalogService calls handled in this process (the gateway's and the catalog's), any code."""
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name != "grpc_server_handled":
            continue
        for sample in metric.samples:
            labels = sample.labels
            if (
                sample.name == "grpc_server_handled_total"
                and labels["grpc_service"] == "games.catalog.v1.CatalogService"
                and labels["grpc_method"] == method
            ):
                total += sample.value
    return total


def wait_for_revision(
    platform: Platform, catalog: RunningCatalog | None = None, timeout: float = 10.0
) -> None:
    """Until the gateway follows the catalog's current revision (so no change is still on its way)."""
    service = (catalog or platform.catalog).app.service
    eventually(
        lambda: platform.gateway.app.cache.revision == service.current_revision(),
        timeout=timeout,
        interval=0.02,
        what=lambda: (
            f"the gateway at the catalog's revision {service.current_revision()};"
            f" it is at {platform.gateway.app.cache.revision}"
        ),
    )


def create(stub: cpb_grpc.CatalogServiceStub, name: str) -> cpb.Game:
    game = cpb.Game(display_name=name, platform=cpb.PLATFORM_IOS, store_id=uuid.uuid4().hex)
    return stub.CreateGame(cpb.CreateGameRequest(game=game, request_id=str(uuid.uuid4())), timeout=10).game


def writer_with_a_game(
    platform: Platform, gateway_channel: OpenGatewayChannel, name: str
) -> tuple[cpb_grpc.CatalogServiceStub, cpb.Game]:
    """A writer's stub through the gateway, and a game it made, once the gateway follows that write."""
    stub = cpb_grpc.CatalogServiceStub(gateway_channel(platform.gateway.target, platform.keys.writer))
    game = create(stub, name)
    wait_for_revision(platform)
    return stub, game


def test_repeated_reads_are_hits_and_skip_the_backend(
    platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    stub, game = writer_with_a_game(platform, gateway_channel, "Cached Quest")
    hits, misses = lookups("GetGame", "hit"), lookups("GetGame", "miss")
    before = handled("GetGame")

    answers = [stub.GetGame(cpb.GetGameRequest(name=game.name), timeout=10).game for _ in range(5)]

    assert all(a == game for a in answers)
    assert handled("GetGame") == before + 5 + 1  # five by the gateway, one by the catalog
    assert lookups("GetGame", "miss") == misses + 1
    assert lookups("GetGame", "hit") == hits + 4
    assert REGISTRY.get_sample_value("gateway_cache_hit_ratio") > 0


def test_a_write_shows_on_the_very_next_read(platform: Platform, gateway_channel: OpenGatewayChannel) -> None:
    stub, game = writer_with_a_game(platform, gateway_channel, "Before Quest")
    search = cpb.SearchGamesRequest(query="quest")
    for _ in range(2):  # the second of each is served from the cache
        assert (
            stub.GetGame(cpb.GetGameRequest(name=game.name), timeout=10).game.display_name == "Before Quest"
        )
        assert [g.display_name for g in stub.SearchGames(search, timeout=10).games] == ["Before Quest"]

    for round_ in range(5):  # no sleeping between the write and the read: never stale, every time
        name = f"After Quest {round_}"
        stub.UpdateGame(
            cpb.UpdateGameRequest(
                game=cpb.Game(name=game.name, display_name=name), update_mask={"paths": ["display_name"]}
            ),
            timeout=10,
        )
        assert stub.GetGame(cpb.GetGameRequest(name=game.name), timeout=10).game.display_name == name
        assert [g.display_name for g in stub.SearchGames(search, timeout=10).games] == [name]

    stub.DeleteGame(cpb.DeleteGameRequest(name=game.name), timeout=10)
    with pytest.raises(grpc.RpcError) as gone:
        stub.GetGame(cpb.GetGameRequest(name=game.name), timeout=10)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND
    assert list(stub.SearchGames(search, timeout=10).games) == []


def test_writes_elsewhere_reach_the_cache_through_the_revision_watch(
    platform: Platform, gateway_channel: OpenGatewayChannel, channel_as
) -> None:
    stub, game = writer_with_a_game(platform, gateway_channel, "Elsewhere")
    assert stub.GetGame(cpb.GetGameRequest(name=game.name), timeout=10).game.display_name == "Elsewhere"
    revision = platform.gateway.app.cache.revision

    # Straight to the catalog, as another gateway replica would: only the watch can tell this one.
    direct = cpb_grpc.CatalogServiceStub(channel_as(platform.catalog.target, "gateway"))
    direct.UpdateGame(
        cpb.UpdateGameRequest(
            game=cpb.Game(name=game.name, display_name="Changed"), update_mask={"paths": ["display_name"]}
        ),
        timeout=10,
    )
    eventually(
        lambda: platform.gateway.app.cache.revision != revision,
        timeout=10,
        interval=0.01,
        what="the watch reporting the new revision",
    )
    assert stub.GetGame(cpb.GetGameRequest(name=game.name), timeout=10).game.display_name == "Changed"


def test_watch_down_bypasses_the_cache_and_recovers(
    platform: Platform,
    gateway_channel: OpenGatewayChannel,
    start_catalog: StartCatalog,
    platform_database_url: str,
) -> None:
    stub, game = writer_with_a_game(platform, gateway_channel, "Outage")
    request = cpb.GetGameRequest(name=game.name)
    stub.GetGame(request, timeout=10)
    stub.GetGame(request, timeout=10)  # cached now

    port = platform.catalog.host.port
    platform.catalog.host.stop(0)
    eventually(
        lambda: platform.gateway.app.cache.revision is None,
        timeout=10,
        interval=0.02,
        what="the gateway noticing the watch broke",
    )
    bypassed = lookups("GetGame", "bypass")
    with pytest.raises(grpc.RpcError) as down:
        stub.GetGame(request, timeout=10)
    details = error_details(down.value)
    assert details.code == grpc.StatusCode.UNAVAILABLE  # not the cached game
    assert "127.0.0.1" not in details.message
    assert str(port) not in details.message
    assert lookups("GetGame", "bypass") == bypassed + 1

    restarted = start_catalog(platform_database_url, port=port)
    wait_for_revision(platform, restarted, timeout=20)
    # Back at the revision the game was cached at: nothing was written meanwhile, so it is still good.
    hits = lookups("GetGame", "hit")
    assert stub.GetGame(request, timeout=10).game.display_name == "Outage"
    assert lookups("GetGame", "hit") == hits + 1


def test_unknown_fields_and_explicit_defaults_share_one_cache_entry(
    platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    _, game = writer_with_a_game(platform, gateway_channel, "Canonical Quest")
    # Bytes as a caller may send them, past any stub: no serializers on either side.
    channel = gateway_channel(platform.gateway.target, platform.keys.reader)
    get_game = channel.unary_unary("/games.catalog.v1.CatalogService/GetGame")
    list_games = channel.unary_unary("/games.catalog.v1.CatalogService/ListGames")
    plain = cpb.GetGameRequest(name=game.name).SerializeToString()
    answer = get_game(plain, timeout=10)
    listing = list_games(b"", timeout=10)
    entries = len(platform.gateway.app.cache)
    hits = lookups("GetGame", "hit")

    for n in range(1, 41):
        assert get_game(plain + unknown_field(1000 + n, n), timeout=10) == answer
    # page_size 0 sent explicitly is the request without it; with a field the catalog does not know too.
    assert list_games(unknown_field(1, 0), timeout=10) == listing
    assert list_games(unknown_field(1, 0) + unknown_field(77, 5), timeout=10) == listing

    assert len(platform.gateway.app.cache) == entries, "each variant of one request minted an entry"
    assert lookups("GetGame", "hit") == hits + 40
    assert cpb.GetGameResponse.FromString(answer).game == game
