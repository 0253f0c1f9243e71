"""The catalog's gRPC transport: protos in, domain service call, protos out.

No business rules live here; errors raised by the domain propagate to gamekit's interceptor,
which turns them into statuses with google.rpc details.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from catalog.domain.service import CatalogService
from catalog.transport import converters
from gamekit.call_context import CALLER_HEADER, current_peer
from gamekit.errors import InvalidArgument
from gamekit.resource_names import parse_resource_id
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc

# Gateway key ids are at most 63 characters and certificate identities short URIs; a longer header is a bug.
MAX_CALLER = 512


def request_caller(context: grpc.ServicerContext) -> str:
    """Whose request ids a call uses: `<key id> via <peer SPIFFE id>` when forwarded, else the peer's id.

    The peer is part of it, so a peer can only ever name callers within its own scope: no trust in the
    header is needed, and a SPIFFE id has no spaces, so no two peers' callers can collide.
    """
    peer = current_peer() or ""
    forwarded = next((str(v) for k, v in context.invocation_metadata() or () if k == CALLER_HEADER), "")
    if len(forwarded) > MAX_CALLER:
        raise InvalidArgument.field(CALLER_HEADER, f"must be at most {MAX_CALLER} characters")
    return f"{forwarded} via {peer}" if forwarded else peer


class CatalogServicer(pb_grpc.CatalogServiceServicer):
    """Implements games.catalog.v1.CatalogService on top of the domain service."""

    def __init__(self, service: CatalogService) -> None:
        self._service = service

    def GetGame(self, request: pb.GetGameRequest, context: grpc.ServicerContext) -> pb.GetGameResponse:
        game_id = parse_resource_id(request.name, collection="games", field="name")
        return pb.GetGameResponse(game=converters.game_to_proto(self._service.get_game(game_id)))

    def ListGames(self, request: pb.ListGamesRequest, context: grpc.ServicerContext) -> pb.ListGamesResponse:
        page = self._service.list_games(
            platform=converters.platform_filter(request.platform),
            page_size=request.page_size,
            page_token=request.page_token,
            rendering=converters.GAME_MESSAGES,
        )
        return pb.ListGamesResponse(games=page.items, next_page_token=page.next_page_token)

    def SearchGames(
        self, request: pb.SearchGamesRequest, context: grpc.ServicerContext
    ) -> pb.SearchGamesResponse:
        page = self._service.search_games(
            query=request.query,
            platform=converters.platform_filter(request.platform),
            page_size=request.page_size,
            page_token=request.page_token,
            rendering=converters.GAME_MESSAGES,
        )
        return pb.SearchGamesResponse(games=page.items, next_page_token=page.next_page_token)

    def CreateGame(
        self, request: pb.CreateGameRequest, context: grpc.ServicerContext
    ) -> pb.CreateGameResponse:
        fields = converters.game_fields(request.game)
        try:
            game = self._service.create_game(
                fields,
                request_id=request.request_id,
                caller=request_caller(context),
                request_hash=converters.request_hash(request),
            )
        except InvalidArgument as error:
            raise converters.under_game(error) from None
        return pb.CreateGameResponse(game=converters.game_to_proto(game))

    def UpdateGame(
        self, request: pb.UpdateGameRequest, context: grpc.ServicerContext
    ) -> pb.UpdateGameResponse:
        update = converters.game_update(request)
        try:
            game = self._service.update_game(update)
        except InvalidArgument as error:
            raise converters.under_game(error) from None
        return pb.UpdateGameResponse(game=converters.game_to_proto(game))

    def DeleteGame(
        self, request: pb.DeleteGameRequest, context: grpc.ServicerContext
    ) -> pb.DeleteGameResponse:
        game_id = parse_resource_id(request.name, collection="games", field="name")
        self._service.delete_game(game_id, etag=request.etag)
        return pb.DeleteGameResponse()

    def ImportGames(
        self, request_iterator: Iterator[pb.ImportGamesRequest], context: grpc.ServicerContext
    ) -> pb.ImportGamesResponse:
        source, batches = converters.import_batches(request_iterator)
        record = self._service.import_games(source, batches)
        return pb.ImportGamesResponse(import_record=converters.import_to_proto(record))

    def GetImport(self, request: pb.GetImportRequest, context: grpc.ServicerContext) -> pb.GetImportResponse:
        import_id = parse_resource_id(request.name, collection="imports", field="name")
        record = self._service.get_import(import_id)
        return pb.GetImportResponse(import_record=converters.import_to_proto(record))

    def ListImports(
        self, request: pb.ListImportsRequest, context: grpc.ServicerContext
    ) -> pb.ListImportsResponse:
        page = self._service.list_imports(
            page_size=request.page_size, page_token=request.page_token, rendering=converters.IMPORT_MESSAGES
        )
        return pb.ListImportsResponse(imports=page.items, next_page_token=page.next_page_token)

    def RollbackImport(
        self, request: pb.RollbackImportRequest, context: grpc.ServicerContext
    ) -> pb.RollbackImportResponse:
        import_id = parse_resource_id(request.name, collection="imports", field="name")
        record = self._service.rollback_import(import_id)
        return pb.RollbackImportResponse(import_record=converters.import_to_proto(record))

    def WatchRevision(
        self, request: pb.WatchRevisionRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchRevisionResponse]:
        for revision in self._service.watch_revision(is_active=context.is_active):
            yield pb.WatchRevisionResponse(revision=revision)
