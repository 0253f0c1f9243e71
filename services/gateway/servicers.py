"""The services callers see: each method forwards to its backend through the `Forwarder`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NoReturn

import grpc

from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as ipb
from games.ingestion.v1 import ingestion_pb2_grpc as ipb_grpc
from gateway.forwarding import Forwarder
from gateway.surface import CATALOG, INGESTION

_C = f"/{CATALOG.full_name}/"
_I = f"/{INGESTION.full_name}/"
Ctx = grpc.ServicerContext


def _internal(context: Ctx, method: str) -> NoReturn:
    context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{method} is internal to the platform; not served here")


class CatalogProxy(cpb_grpc.CatalogServiceServicer):
    """games.catalog.v1.CatalogService for callers, minus the internal ImportGames and WatchRevision."""

    def __init__(self, channel: grpc.Channel, forwarder: Forwarder) -> None:
        self._stub = cpb_grpc.CatalogServiceStub(channel)
        self._fw = forwarder

    def GetGame(self, request: cpb.GetGameRequest, context: Ctx) -> cpb.GetGameResponse:
        return self._fw.unary(_C + "GetGame", self._stub.GetGame, request, context)

    def ListGames(self, request: cpb.ListGamesRequest, context: Ctx) -> cpb.ListGamesResponse:
        return self._fw.unary(_C + "ListGames", self._stub.ListGames, request, context)

    def SearchGames(self, request: cpb.SearchGamesRequest, context: Ctx) -> cpb.SearchGamesResponse:
        return self._fw.unary(_C + "SearchGames", self._stub.SearchGames, request, context)

    def CreateGame(self, request: cpb.CreateGameRequest, context: Ctx) -> cpb.CreateGameResponse:
        return self._fw.unary(_C + "CreateGame", self._stub.CreateGame, request, context)

    def UpdateGame(self, request: cpb.UpdateGameRequest, context: Ctx) -> cpb.UpdateGameResponse:
        return self._fw.unary(_C + "UpdateGame", self._stub.UpdateGame, request, context)

    def DeleteGame(self, request: cpb.DeleteGameRequest, context: Ctx) -> cpb.DeleteGameResponse:
        return self._fw.unary(_C + "DeleteGame", self._stub.DeleteGame, request, context)

    def GetImport(self, request: cpb.GetImportRequest, context: Ctx) -> cpb.GetImportResponse:
        return self._fw.unary(_C + "GetImport", self._stub.GetImport, request, context)

    def ListImports(self, request: cpb.ListImportsRequest, context: Ctx) -> cpb.ListImportsResponse:
        return self._fw.unary(_C + "ListImports", self._stub.ListImports, request, context)

    def RollbackImport(self, request: cpb.RollbackImportRequest, context: Ctx) -> cpb.RollbackImportResponse:
        return self._fw.unary(_C + "RollbackImport", self._stub.RollbackImport, request, context)

    def ImportGames(
        self, request_iterator: Iterator[cpb.ImportGamesRequest], context: Ctx
    ) -> cpb.ImportGamesResponse:
        _internal(context, "ImportGames")

    def WatchRevision(
        self, request: cpb.WatchRevisionRequest, context: Ctx
    ) -> Iterator[cpb.WatchRevisionResponse]:
        _internal(context, "WatchRevision")


class IngestionProxy(ipb_grpc.IngestionServiceServicer):
    """games.ingestion.v1.IngestionService for callers, every method forwarded."""

    def __init__(self, channel: grpc.Channel, forwarder: Forwarder) -> None:
        self._stub = ipb_grpc.IngestionServiceStub(channel)
        self._fw = forwarder

    def RunIngestion(self, request: ipb.RunIngestionRequest, context: Ctx) -> ipb.RunIngestionResponse:
        return self._fw.unary(_I + "RunIngestion", self._stub.RunIngestion, request, context)

    def GetRun(self, request: ipb.GetRunRequest, context: Ctx) -> ipb.GetRunResponse:
        return self._fw.unary(_I + "GetRun", self._stub.GetRun, request, context)

    def ListRuns(self, request: ipb.ListRunsRequest, context: Ctx) -> ipb.ListRunsResponse:
        return self._fw.unary(_I + "ListRuns", self._stub.ListRuns, request, context)

    def ListFiles(self, request: ipb.ListFilesRequest, context: Ctx) -> ipb.ListFilesResponse:
        return self._fw.unary(_I + "ListFiles", self._stub.ListFiles, request, context)

    def ListQuarantinedRecords(
        self, request: ipb.ListQuarantinedRecordsRequest, context: Ctx
    ) -> ipb.ListQuarantinedRecordsResponse:
        return self._fw.unary(
            _I + "ListQuarantinedRecords", self._stub.ListQuarantinedRecords, request, context
        )
