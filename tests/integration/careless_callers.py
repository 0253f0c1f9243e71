"""What the catalog's and the gateway's careless-caller tests share: the pool, and a call that must pass."""

from __future__ import annotations

import grpc

from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc

HANDLER_THREADS = 16  # gamekit's handler pool
CATALOG = "games.catalog.v1.CatalogService"


def list_games(channel: grpc.Channel) -> pb.ListGamesResponse:
    """One cheap ListGames: answered, however many idle streams careless callers hold."""
    return pb_grpc.CatalogServiceStub(channel).ListGames(pb.ListGamesRequest(page_size=1), timeout=10)
