"""One representative call of every method the gateway exposes, by full method name."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import grpc

from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as ipb
from games.ingestion.v1 import ingestion_pb2_grpc as ipb_grpc
from tests.fixtures.ingestion import ended_run

C = "/games.catalog.v1.CatalogService/"
I = "/games.ingestion.v1.IngestionService/"  # noqa: E741

Call = Callable[[grpc.Channel], object]


def _game() -> cpb.Game:
    return cpb.Game(display_name="Matrix", platform=cpb.PLATFORM_IOS, store_id=uuid.uuid4().hex)


def _catalog(channel: grpc.Channel) -> cpb_grpc.CatalogServiceStub:
    return cpb_grpc.CatalogServiceStub(channel)


def _ingestion(channel: grpc.Channel) -> ipb_grpc.IngestionServiceStub:
    return ipb_grpc.IngestionServiceStub(channel)


def _run_ingestion(channel: grpc.Channel) -> ipb.Run:
    """RunIngestion, then GetRun until the run ends, so that the next one may start a run again."""
    stub = _ingestion(channel)
    return ended_run(stub, stub.RunIngestion(ipb.RunIngestionRequest(), timeout=T).run.name)


T = 10
CALLS: dict[str, Call] = {
    C + "GetGame": lambda ch: _catalog(ch).GetGame(cpb.GetGameRequest(name="games/1"), timeout=T),
    C + "ListGames": lambda ch: _catalog(ch).ListGames(cpb.ListGamesRequest(), timeout=T),
    C + "SearchGames": lambda ch: _catalog(ch).SearchGames(cpb.SearchGamesRequest(query="mat"), timeout=T),
    C + "CreateGame": lambda ch: _catalog(ch).CreateGame(
        cpb.CreateGameRequest(game=_game(), request_id=str(uuid.uuid4())), timeout=T
    ),
    C + "UpdateGame": lambda ch: _catalog(ch).UpdateGame(
        cpb.UpdateGameRequest(
            game=cpb.Game(name="games/1", display_name="x"), update_mask={"paths": ["display_name"]}
        ),
        timeout=T,
    ),
    C + "DeleteGame": lambda ch: _catalog(ch).DeleteGame(cpb.DeleteGameRequest(name="games/1"), timeout=T),
    C + "ImportGames": lambda ch: _catalog(ch).ImportGames(
        iter([cpb.ImportGamesRequest(header=cpb.ImportHeader(source=cpb.ImportSource(bucket="b", key="k")))]),
        timeout=T,
    ),
    C + "GetImport": lambda ch: _catalog(ch).GetImport(cpb.GetImportRequest(name="imports/1"), timeout=T),
    C + "ListImports": lambda ch: _catalog(ch).ListImports(cpb.ListImportsRequest(), timeout=T),
    C + "RollbackImport": lambda ch: _catalog(ch).RollbackImport(
        cpb.RollbackImportRequest(name="imports/1"), timeout=T
    ),
    C + "WatchRevision": lambda ch: next(
        iter(_catalog(ch).WatchRevision(cpb.WatchRevisionRequest(), timeout=T))
    ),
    I + "RunIngestion": _run_ingestion,
    I + "GetRun": lambda ch: _ingestion(ch).GetRun(ipb.GetRunRequest(name="runs/1"), timeout=T),
    I + "ListRuns": lambda ch: _ingestion(ch).ListRuns(ipb.ListRunsRequest(), timeout=T),
    I + "ListFiles": lambda ch: _ingestion(ch).ListFiles(ipb.ListFilesRequest(), timeout=T),
    I + "ListQuarantinedRecords": lambda ch: _ingestion(ch).ListQuarantinedRecords(
        ipb.ListQuarantinedRecordsRequest(), timeout=T
    ),
    I + "AcceptFile": lambda ch: _ingestion(ch).AcceptFile(ipb.AcceptFileRequest(name="files/1"), timeout=T),
}


def code_of(call: Call, channel: grpc.Channel) -> grpc.StatusCode:
    """The status code `call` ends with on `channel` (OK when it succeeds)."""
    try:
        call(channel)
    except grpc.RpcError as error:
        if not isinstance(error, grpc.Call):
            raise
        return error.code()
    return grpc.StatusCode.OK
