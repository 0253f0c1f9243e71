"""Any request to any method through the gateway (admin key): a documented answer, and it still serves.

Every method of CatalogService and IngestionService gets requests built from its descriptor
(tests/fuzz/messages.py: every field at its extremes, unknown enum values, forged page tokens, unknown
fields), and bytes that are no such message (invalid UTF-8, wrong wire types, random bytes); the
streaming ones (internal: UNIMPLEMENTED here) get a few messages or read a few answers, then stop. Each
must answer OK or a documented client error, never INTERNAL, UNKNOWN or UNAVAILABLE, and never leak a
traceback, SQL, a path or a class name (tests/fuzz/verdicts.py). Afterwards the gateway and the catalog
are SERVING and a game made before the run reads as it was.

Bounded for `make test`: a fixed number of examples per method, derandomized (the same inputs every run, so
a failure reproduces by running the test again), no example database, and no shrinking (one call can be
a 5 MiB request, and shrinking such examples would take minutes); the failing request is printed as sent.
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from gateway.surface import CATALOG, INGESTION
from tests.e2e.callers import gateway_channel, unlimited_rate
from tests.e2e.conftest import E2ESuite
from tests.fixtures.health import SERVING, health_status
from tests.fuzz.messages import not_messages, wire_messages
from tests.fuzz.verdicts import Sent, call_raw, problem

pytestmark = pytest.mark.slow

TIMEOUT = 10.0  # a caller's deadline on each call: a hang is a failure like any other
EXAMPLES = 60
NOT_MESSAGES = 15  # each the same question to the gateway's deserializer: a few suffice
# RunIngestion starts a run over the bucket each time; its request has no field, only unknown ones.
FEWER = {"RunIngestion": 8}
# Methods that could delete or change the game the final check reads.
CHANGES_GAMES = {"DeleteGame", "UpdateGame"}
METHODS = [*CATALOG.methods, *INGESTION.methods]


@pytest.fixture(scope="module")
def suite_environ() -> dict[str, str]:
    """Limits far above this module's calls, so that each answer is about the request, not the rate."""
    return unlimited_rate()


@pytest.fixture(scope="module")
def gateway(platform_suite: E2ESuite) -> grpc.Channel:
    """A caller's channel to the suite's gateway with the admin key (every scope)."""
    return gateway_channel(platform_suite, platform_suite.api_key("admin"))


@pytest.fixture(scope="module")
def known_game(gateway: grpc.Channel) -> cpb.Game:
    """A game made before any fuzzing; the last test reads it back."""
    game = cpb.Game(display_name="Fuzz Sentinel", platform=cpb.PLATFORM_ANDROID, store_id=uuid.uuid4().hex)
    request = cpb.CreateGameRequest(game=game, request_id=str(uuid.uuid4()))
    return cpb_grpc.CatalogServiceStub(gateway).CreateGame(request, timeout=TIMEOUT).game


def _check_every_request(
    gateway: grpc.Channel,
    method: MethodDescriptor,
    protected: bytes,
    payload: st.SearchStrategy[bytes],
    examples: int,
) -> None:
    """Send `examples` requests drawn from `payload` to `method`; each must get a documented answer."""
    many = st.lists(payload, min_size=1, max_size=4) if method.client_streaming else st.tuples(payload)
    payloads = many.map(lambda sent: Sent(method, sent))

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(payloads)
    def one_request(sent: Sent) -> None:
        if method.name in CHANGES_GAMES:
            assume(all(protected not in payload for payload in sent.payloads))
        answer = call_raw(gateway, method, sent.payloads, TIMEOUT)
        found = problem(method, sent.payloads, answer)
        assert found is None, f"{method.name}: {found}"

    one_request()


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_any_message_gets_a_documented_answer(gateway: grpc.Channel, known_game: cpb.Game, method) -> None:
    protected = known_game.name.rpartition("/")[2].encode()
    examples = FEWER.get(method.name, EXAMPLES)
    _check_every_request(gateway, method, protected, wire_messages(method.input_type), examples)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
def test_bytes_that_are_no_message_get_a_documented_answer(
    gateway: grpc.Channel, known_game: cpb.Game, method
) -> None:
    protected = known_game.name.rpartition("/")[2].encode()
    _check_every_request(gateway, method, protected, not_messages(method.input_type), NOT_MESSAGES)


def test_after_all_that_the_platform_still_serves(
    platform_suite: E2ESuite, gateway: grpc.Channel, known_game: cpb.Game
) -> None:
    for name in ("gateway", "catalog", "ingestion"):
        assert health_status(platform_suite.service(name).health_port) == SERVING, f"{name} is not SERVING"
    response = cpb_grpc.CatalogServiceStub(gateway).GetGame(
        cpb.GetGameRequest(name=known_game.name), timeout=TIMEOUT
    )
    assert response.game.display_name == "Fuzz Sentinel"
    assert response.game.store_id == known_game.store_id
