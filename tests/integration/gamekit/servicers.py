"""A tiny CatalogService for gamekit's tests: each game name triggers one behaviour."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import grpc

from gamekit.call_context import current_request_id, time_remaining
from gamekit.errors import InvalidArgument, ResourceExhausted, Unavailable
from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc

SERVICE = "games.catalog.v1.CatalogService"
GET_GAME = f"/{SERVICE}/GetGame"
DELETE_GAME = f"/{SERVICE}/DeleteGame"
SECRET = "SELECT secret FROM /etc/passwd db.internal"


class FakeCatalog(catalog_pb2_grpc.CatalogServiceServicer):
    """GetGame: games/bad, /boom, /limited, /slow-<s>, /flaky, /deadline, /forward, /hold; else a fixed game.

    games/hold releases `holding` once in the handler, then waits until `let_go` is set.
    """

    def __init__(self, *, fail_first: int = 0, downstream: grpc.Channel | None = None) -> None:
        self.fail_first = fail_first
        self.downstream = downstream
        self.calls: Counter[str] = Counter()
        self.holding = threading.Semaphore(0)
        self.let_go = threading.Event()
        self._lock = threading.Lock()

    def _count(self, key: str) -> int:
        with self._lock:
            self.calls[key] += 1
            return self.calls[key]

    def GetGame(self, request, context):
        name = request.name
        if name == "games/bad":
            raise InvalidArgument.field("name", "must be games/{id}")
        if name == "games/boom":
            raise RuntimeError(SECRET)
        if name == "games/limited":
            raise ResourceExhausted("slow down", retry_after=2.5)
        if name == "games/hold":
            self.holding.release()
            self.let_go.wait(30)
        if name.startswith("games/slow"):
            time.sleep(float(name.partition("-")[2] or 1.0))
        if name == "games/flaky" and self._count(name) <= self.fail_first:
            raise Unavailable("try again")
        if name == "games/deadline":
            game = catalog_pb2.Game(
                name=name,
                display_name=f"{time_remaining():.3f}",
                publisher_name=current_request_id() or "",
            )
            return catalog_pb2.GetGameResponse(game=game)
        if name == "games/forward":
            assert self.downstream is not None
            stub = catalog_pb2_grpc.CatalogServiceStub(self.downstream)
            return stub.GetGame(catalog_pb2.GetGameRequest(name="games/deadline"), timeout=30)
        return catalog_pb2.GetGameResponse(game=catalog_pb2.Game(name=name, display_name="Pokémon GO"))

    def DeleteGame(self, request, context):
        if self._count("delete") <= self.fail_first:
            raise Unavailable("try again")
        return catalog_pb2.DeleteGameResponse()

    def WatchRevision(self, request, context) -> Iterator[catalog_pb2.WatchRevisionResponse]:
        yield catalog_pb2.WatchRevisionResponse(revision=1)
        yield catalog_pb2.WatchRevisionResponse(revision=2)
        raise RuntimeError(SECRET)

    def ImportGames(self, request_iterator, context):
        first = next(request_iterator, None)
        if first is None or not first.HasField("header"):
            raise InvalidArgument.field("header", "the first message must be a header")
        received = sum(len(message.batch.games) for message in request_iterator)
        return catalog_pb2.ImportGamesResponse(
            import_record=catalog_pb2.Import(name="imports/1", received_count=received)
        )


def register(servicer: FakeCatalog):
    """The register function ServiceHost wants, for this servicer."""
    return lambda server: catalog_pb2_grpc.add_CatalogServiceServicer_to_server(servicer, server)
