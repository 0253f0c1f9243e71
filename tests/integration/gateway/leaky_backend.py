"""A CatalogService that fails the way a broken backend would, leaking internals in every message."""

from __future__ import annotations

import threading

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from gamekit.errors import DeadlineExceeded
from gamekit.status import DOMAIN, status_for
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc

SECRET = (
    'psycopg.errors.UndefinedTable: relation "games" does not exist\n'
    "SELECT * FROM games WHERE id = 7 -- File /srv/catalog/storage/games.py, line 42, db-0.internal:5432"
)
LEAKS = ("psycopg", "SELECT", "/srv/", "store.py", "db-0.internal", "5432", "Traceback")

ABORTS = {
    "internal": grpc.StatusCode.INTERNAL,
    "unknown": grpc.StatusCode.UNKNOWN,
    "data-loss": grpc.StatusCode.DATA_LOSS,
    "denied": grpc.StatusCode.PERMISSION_DENIED,
    "unauthenticated": grpc.StatusCode.UNAUTHENTICATED,
    "unimplemented": grpc.StatusCode.UNIMPLEMENTED,
    # An expected code, but without the platform's ErrorInfo: not a status gamekit made.
    "foreign-not-found": grpc.StatusCode.NOT_FOUND,
}


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


class LeakyCatalog(cpb_grpc.CatalogServiceServicer):
    """GetGame games/<mode> fails as ABORTS[mode], `crash` raises, `rich-invalid` sends details,
    `deadline` answers as a catalog whose query the caller's deadline cancelled."""

    def __init__(self) -> None:
        self.page_sizes: list[int] = []
        self._lock = threading.Lock()

    def GetGame(self, request, context):
        mode = request.name.removeprefix("games/")
        if mode in ABORTS:
            context.abort(ABORTS[mode], SECRET)
        if mode == "crash":
            raise RuntimeError(SECRET)
        if mode == "deadline":  # what the catalog sends when the deadline it was given cancels a query
            context.abort_with_status(status_for(DeadlineExceeded("the deadline passed"), "request-1"))
        if mode == "rich-invalid":
            violation = error_details_pb2.BadRequest.FieldViolation(
                field="name", description="must be games/{id}"
            )
            status = status_pb2.Status(
                code=code_pb2.INVALID_ARGUMENT,
                message="invalid request: name",
                details=[
                    _pack(error_details_pb2.ErrorInfo(reason="INVALID_ARGUMENT", domain=DOMAIN)),
                    _pack(error_details_pb2.BadRequest(field_violations=[violation])),
                    _pack(error_details_pb2.DebugInfo(stack_entries=[SECRET], detail=SECRET)),
                ],
            )
            context.abort_with_status(rpc_status.to_status(status))
        return cpb.GetGameResponse(game=cpb.Game(name=request.name, display_name="fine"))

    def ListGames(self, request, context):
        with self._lock:
            self.page_sizes.append(request.page_size)
        return cpb.ListGamesResponse()

    def CreateGame(self, request, context):
        return cpb.CreateGameResponse(game=request.game)

    def WatchRevision(self, request, context):
        yield cpb.WatchRevisionResponse(revision=1)
        done = threading.Event()
        context.add_callback(done.set)
        done.wait()
