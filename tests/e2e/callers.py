"""How the e2e modules call the suite's gateway as its callers do: with an API key, over mTLS."""

from __future__ import annotations

import grpc

from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from tests.e2e.conftest import E2ESuite
from tests.fixtures.eventually import eventually

CALL_DEADLINE = 10.0
KEY_RELOAD_TIMEOUT = 20.0


def unlimited_rate() -> dict[str, str]:
    """A `suite_environ` whose default rate limits are far above a module's calls: none is refused."""
    return {"GATEWAY_RATE_LIMIT_RPS": "100000", "GATEWAY_RATE_LIMIT_BURST": "100000"}


def gateway_target(platform_suite: E2ESuite) -> str:
    """The suite's gateway, host:port."""
    return platform_suite.target(platform_suite.service("gateway"))


def gateway_channel(platform_suite: E2ESuite, api_key: str) -> grpc.Channel:
    """A caller's channel to the suite's gateway, sending `api_key` (the key itself, not its name)."""
    return platform_suite.channel(gateway_target(platform_suite), api_key)


def gateway_catalog(platform_suite: E2ESuite, api_key: str) -> cpb_grpc.CatalogServiceStub:
    """CatalogService through the suite's gateway, called with `api_key`."""
    return cpb_grpc.CatalogServiceStub(gateway_channel(platform_suite, api_key))


def wait_accepted(games: cpb_grpc.CatalogServiceStub) -> None:
    """Block until the gateway has re-read its keys file and knows the stub's new key."""

    def accepted() -> bool:
        try:
            games.ListGames(cpb.ListGamesRequest(page_size=1), timeout=CALL_DEADLINE)
            return True
        except grpc.RpcError as error:
            refused = error_details(error).code
        # A new key is unknown until then, nothing else.
        assert refused == grpc.StatusCode.UNAUTHENTICATED, f"refused with {refused}"
        return False

    eventually(accepted, timeout=KEY_RELOAD_TIMEOUT, interval=0.2, what="the gateway accepting the new key")
