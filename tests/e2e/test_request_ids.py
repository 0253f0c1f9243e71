"""CreateGame's request id through the gateway, real processes: each API key has request ids of its own."""

from __future__ import annotations

import uuid

import grpc
import pytest

from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as cpb
from tests.e2e.callers import gateway_catalog, wait_accepted
from tests.e2e.conftest import E2ESuite

pytestmark = pytest.mark.slow

DEADLINE = 10.0


def game(store_id: str, display_name: str) -> cpb.Game:
    return cpb.Game(display_name=display_name, platform=cpb.PLATFORM_IOS, store_id=store_id)


def test_two_keys_with_one_request_id_create_two_games_and_retries_answer_their_own(
    platform_suite: E2ESuite,
) -> None:
    admin = gateway_catalog(platform_suite, platform_suite.api_key("admin"))
    second_writer = platform_suite.add_key("second-writer", ["games.read", "games.write"])
    other = gateway_catalog(platform_suite, second_writer)
    wait_accepted(other)
    request_id = str(uuid.uuid4())
    from_admin = cpb.CreateGameRequest(game=game(uuid.uuid4().hex, "Admin's"), request_id=request_id)
    from_other = cpb.CreateGameRequest(game=game(uuid.uuid4().hex, "Other's"), request_id=request_id)

    first = admin.CreateGame(from_admin, timeout=DEADLINE)
    second = other.CreateGame(from_other, timeout=DEADLINE)
    assert second.game.name != first.game.name
    assert other.CreateGame(from_other, timeout=DEADLINE) == second

    admin.DeleteGame(cpb.DeleteGameRequest(name=first.game.name), timeout=DEADLINE)
    assert admin.CreateGame(from_admin, timeout=DEADLINE) == first, "a retry answers as the first time"

    with pytest.raises(grpc.RpcError) as reused:
        other.CreateGame(from_admin, timeout=DEADLINE)
    details = error_details(reused.value)
    assert (details.code, details.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")
    assert [v.field for v in details.field_violations] == ["request_id"]
