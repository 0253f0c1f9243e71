"""Pages of large items through the gateway: a page stops below the 4 MiB message limit, never fails.

Each listing holds more than 4 MiB of items that page_size=1000 would put in one response; every item
must come back exactly once across the pages, with no RESOURCE_EXHAUSTED on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import grpc
import pytest

from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as ipb
from games.ingestion.v1 import ingestion_pb2_grpc as ipb_grpc
from ingestion.model import RunTrigger
from tests.factories.deliveries import app, delivery
from tests.fixtures.gateway import OpenGatewayChannel, Platform
from tests.fixtures.ingestion import BuildIngestion
from tests.fixtures.pki import ChannelAs

MESSAGE_LIMIT = 4 * 1024 * 1024
LARGE_GAMES = 220  # about 23 KB each: 5 MB in all
LARGE_RECORDS = 80  # 64 KiB of raw JSON each: 5 MiB in all


def large_game(n: int) -> cpb.Game:
    """A game with most text fields near their limits (about 23 KB on the wire)."""
    return cpb.Game(
        display_name=f"Huge game {n:04d} " + "h" * 480,
        platform=cpb.PLATFORM_ANDROID,
        store_id=f"com.example.huge{n}",
        bundle_id="b" * 2000,
        publisher_id="p" * 2000,
        publisher_name="n" * 2000,
        app_version="v" * 2000,
        categories=[f"{i:02d}" + "c" * 198 for i in range(50)],
        icon_uri="https://cdn.example.com/" + "i" * 2000,
        store_uri="https://store.example.com/" + "s" * 2000,
    )


def import_stream(games: Sequence[cpb.Game], batch: int = 80) -> Iterator[cpb.ImportGamesRequest]:
    source = cpb.ImportSource(bucket="deliveries", key="large/android.top100.json", etag="etag-large")
    yield cpb.ImportGamesRequest(header=cpb.ImportHeader(source=source))
    for start in range(0, len(games), batch):
        yield cpb.ImportGamesRequest(batch=cpb.ImportBatch(games=games[start : start + batch]))
    yield cpb.ImportGamesRequest(commit=cpb.ImportCommit(game_count=len(games)))


def read_every_page(list_page: Callable[[str], tuple[list[str], str, int]]) -> tuple[list[str], int]:
    """Every item name across the pages, and how many pages it took; fails on any error status."""
    names: list[str] = []
    token, pages = "", 0
    while True:
        try:
            page, token, size = list_page(token)
        except grpc.RpcError as error:
            details = error_details(error)
            pytest.fail(f"page {pages + 1} failed: {details.code.name} {details.message}")
        assert size < MESSAGE_LIMIT
        names += page
        pages += 1
        if not token:
            return names, pages


@pytest.fixture
def large_games(platform: Platform, channel_as: ChannelAs) -> None:
    """LARGE_GAMES large games, imported by ingestion's identity straight into the catalog."""
    catalog = cpb_grpc.CatalogServiceStub(channel_as(platform.catalog.target, "ingestion"))
    imported = catalog.ImportGames(import_stream([large_game(n) for n in range(LARGE_GAMES)]), timeout=60)
    assert imported.import_record.created_count == LARGE_GAMES


def test_every_game_is_listed_once_at_page_size_1000(
    platform: Platform, gateway_channel: OpenGatewayChannel, large_games: None
) -> None:
    games = cpb_grpc.CatalogServiceStub(gateway_channel(platform.gateway.target, platform.keys.reader))

    def list_page(token: str) -> tuple[list[str], str, int]:
        response = games.ListGames(cpb.ListGamesRequest(page_size=1000, page_token=token), timeout=30)
        return [g.name for g in response.games], response.next_page_token, response.ByteSize()

    names, pages = read_every_page(list_page)
    assert len(names) == LARGE_GAMES
    assert len(set(names)) == LARGE_GAMES, "no game twice"
    assert pages > 1, "more than 4 MiB of games cannot come in one page"


def test_every_match_of_a_search_is_found_once_at_page_size_1000(
    platform: Platform, gateway_channel: OpenGatewayChannel, large_games: None
) -> None:
    games = cpb_grpc.CatalogServiceStub(gateway_channel(platform.gateway.target, platform.keys.reader))

    def search_page(token: str) -> tuple[list[str], str, int]:
        request = cpb.SearchGamesRequest(query="huge game", page_size=1000, page_token=token)
        response = games.SearchGames(request, timeout=30)
        return [g.name for g in response.games], response.next_page_token, response.ByteSize()

    names, pages = read_every_page(search_page)
    assert len(names) == LARGE_GAMES
    assert len(set(names)) == LARGE_GAMES, "no game twice"
    assert pages > 1


def test_every_quarantined_record_is_listed_once_at_page_size_1000(
    platform: Platform,
    gateway_channel: OpenGatewayChannel,
    build_ingestion_app: BuildIngestion,
    s3_client,
) -> None:
    # Records without an app id are quarantined, each keeping 64 KiB of its JSON.
    bad = [app(n, app_id=None, description="x" * 70_000) for n in range(LARGE_RECORDS)]
    s3_client.put_object(Bucket=platform.bucket, Key="large/ios.top100.json", Body=delivery([bad]))
    cronjob = build_ingestion_app(bucket=platform.bucket, catalog_target=platform.catalog.target)
    cronjob.runner.run(RunTrigger.SCHEDULE)
    ledger = ipb_grpc.IngestionServiceStub(gateway_channel(platform.gateway.target, platform.keys.operator))

    def list_page(token: str) -> tuple[list[str], str, int]:
        request = ipb.ListQuarantinedRecordsRequest(page_size=1000, page_token=token)
        response = ledger.ListQuarantinedRecords(request, timeout=30)
        assert all(len(r.raw_record) == 64 * 1024 for r in response.records)
        return [r.name for r in response.records], response.next_page_token, response.ByteSize()

    names, pages = read_every_page(list_page)
    assert len(names) == LARGE_RECORDS
    assert len(set(names)) == LARGE_RECORDS, "no record twice"
    assert pages > 1


@pytest.mark.parametrize("field", ["bucket", "key", "etag", "version_id"])
def test_an_import_source_too_long_to_list_is_refused(
    platform: Platform, channel_as: ChannelAs, field: str
) -> None:
    # A 2 MiB key would make each import in ListImports 2 MiB: two of them could not be listed at all.
    catalog = cpb_grpc.CatalogServiceStub(channel_as(platform.catalog.target, "ingestion"))
    source = cpb.ImportSource(bucket="deliveries", key="k", etag="e")
    setattr(source, field, "x" * (2 * 1024 * 1024))
    requests = iter(
        [
            cpb.ImportGamesRequest(header=cpb.ImportHeader(source=source)),
            cpb.ImportGamesRequest(commit=cpb.ImportCommit(game_count=0)),
        ]
    )
    with pytest.raises(grpc.RpcError) as refused:
        catalog.ImportGames(requests, timeout=30)
    details = error_details(refused.value)
    assert details.code is grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in details.field_violations] == [f"header.source.{field}"]
