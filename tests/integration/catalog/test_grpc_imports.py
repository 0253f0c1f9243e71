"""ImportGames streamed by ingestion, rollback through the gateway, and the revision watch."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import grpc
import pytest

from games.catalog.v1 import catalog_pb2 as pb
from tests.fixtures.catalog import CatalogStubAs


def stream(source_key: str, batches: list[list[pb.Game]]) -> Iterator[pb.ImportGamesRequest]:
    yield pb.ImportGamesRequest(
        header=pb.ImportHeader(source=pb.ImportSource(bucket="deliveries", key=source_key, etag="etag-1"))
    )
    for games in batches:
        yield pb.ImportGamesRequest(batch=pb.ImportBatch(games=games))
    yield pb.ImportGamesRequest(commit=pb.ImportCommit(game_count=sum(len(games) for games in batches)))


def game(n: int, name: str | None = None, rank: int | None = None) -> pb.Game:
    return pb.Game(
        display_name=name or f"Game {n}",
        platform=pb.PLATFORM_ANDROID,
        store_id=f"com.example.g{n}",
        best_rank=rank,
    )


def test_import_publishes_then_rollback_restores(catalog_as: CatalogStubAs) -> None:
    ingestion, gateway = catalog_as("ingestion"), catalog_as("gateway")
    kept = gateway.CreateGame(
        pb.CreateGameRequest(game=game(1, "Old name"), request_id=str(uuid.uuid4()))
    ).game

    imported = ingestion.ImportGames(
        stream(
            "2026-11-23/android.top100.json", [[game(1, "New name", 3), game(2, rank=9)], [game(2, rank=4)]]
        )
    ).import_record
    assert (imported.received_count, imported.created_count, imported.updated_count) == (3, 1, 1)
    games = {g.store_id: g for g in gateway.ListGames(pb.ListGamesRequest()).games}
    assert games["com.example.g1"].display_name == "New name"
    assert games["com.example.g2"].best_rank == 4, "the same app twice keeps its best rank"
    assert games["com.example.g2"].last_import == imported.name

    again = ingestion.ImportGames(
        stream("2026-11-23/android.top100.json", [[game(1, "Other")]])
    ).import_record
    assert again.name == imported.name, "the same source is imported once"

    listed = gateway.ListImports(pb.ListImportsRequest()).imports
    assert [i.name for i in listed] == [imported.name]

    rolled = gateway.RollbackImport(pb.RollbackImportRequest(name=imported.name)).import_record
    assert rolled.state == pb.IMPORT_STATE_ROLLED_BACK
    after = gateway.ListGames(pb.ListGamesRequest()).games
    assert [(g.name, g.display_name) for g in after] == [(kept.name, "Old name")]

    with pytest.raises(grpc.RpcError) as twice:
        gateway.RollbackImport(pb.RollbackImportRequest(name=imported.name))
    assert twice.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_rollback_refused_when_a_later_write_touched_the_games(catalog_as: CatalogStubAs) -> None:
    ingestion, gateway = catalog_as("ingestion"), catalog_as("gateway")
    first = ingestion.ImportGames(stream("a.json", [[game(1, "A")]])).import_record
    ingestion.ImportGames(stream("b.json", [[game(1, "B")]]))
    with pytest.raises(grpc.RpcError) as refused:
        gateway.RollbackImport(pb.RollbackImportRequest(name=first.name))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert [g.display_name for g in gateway.ListGames(pb.ListGamesRequest()).games] == ["B"]


def test_a_stream_without_its_commit_publishes_nothing(catalog_as: CatalogStubAs) -> None:
    uncommitted = list(stream("cut.json", [[game(1)], [game(2)]]))[:-1]
    with pytest.raises(grpc.RpcError) as cut:
        catalog_as("ingestion").ImportGames(iter(uncommitted))
    assert cut.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    miscounted = [*uncommitted, pb.ImportGamesRequest(commit=pb.ImportCommit(game_count=3))]
    with pytest.raises(grpc.RpcError) as wrong:
        catalog_as("ingestion").ImportGames(iter(miscounted))
    assert wrong.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert catalog_as("gateway").ListGames(pb.ListGamesRequest()).games == []
    assert catalog_as("gateway").ListImports(pb.ListImportsRequest()).imports == []


def test_a_bad_game_fails_the_whole_import(catalog_as: CatalogStubAs) -> None:
    with pytest.raises(grpc.RpcError) as bad:
        catalog_as("ingestion").ImportGames(stream("bad.json", [[game(1)], [game(2, name=" ")]]))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert catalog_as("gateway").ListGames(pb.ListGamesRequest()).games == []


def test_readers_see_the_catalog_before_or_after_an_import_never_half(catalog_as: CatalogStubAs) -> None:
    ingestion, gateway = catalog_as("ingestion"), catalog_as("gateway")
    size = 20_000
    ingestion.ImportGames(stream("v1.json", [[game(n, "old") for n in range(size)]]))
    first, last = (gateway.ListGames(pb.ListGamesRequest(page_size=1)).games[0].name, f"games/{size}")
    observed: set[tuple[str, str]] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            pair = (
                gateway.GetGame(pb.GetGameRequest(name=first)).game.display_name,
                gateway.GetGame(pb.GetGameRequest(name=last)).game.display_name,
            )
            observed.add(pair)

    batches = [[game(n, "new") for n in range(start, start + 1000)] for start in range(0, size, 1000)]
    reader = threading.Thread(target=read)
    reader.start()
    try:
        ingestion.ImportGames(stream("v2.json", batches))
    finally:
        done.set()
        reader.join()
    # Batches go first to last, so a half-published import would show the first game new and the last old.
    assert ("new", "old") not in observed
    assert ("old", "old") in observed
    assert gateway.GetGame(pb.GetGameRequest(name=last)).game.display_name == "new"


def test_watch_pushes_the_revision_on_every_write(catalog_as: CatalogStubAs) -> None:
    gateway = catalog_as("gateway")
    watch = gateway.WatchRevision(pb.WatchRevisionRequest(), timeout=20)
    initial = next(watch).revision
    gateway.CreateGame(pb.CreateGameRequest(game=game(1), request_id=str(uuid.uuid4())))
    assert next(watch).revision > initial
    watch.cancel()
