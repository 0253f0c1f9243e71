"""Rate limits across three gateway processes on one private Redis, and Redis killed and restarted under load.

Three extra `python -m gateway serve` processes run with the suite gateway's environment, one shared
GATEWAY_REDIS_URL and GATEWAY_REPLICAS=1, deliberately wrong: the gateways count each other in Redis,
and that count, not the setting, sets each one's share while Redis is down. Each test gives its own
key its own limit, so no test sees another's state, and drives GetGame through all three gateways from
several threads. A GCRA under
steady overload admits `burst` at once, then exactly one call per 1/rps: over a window that is
`burst + rps * elapsed`, which is what the shared limiter must match within 5% across the processes.
"""

from __future__ import annotations

import functools
import math
import time
import uuid
from collections.abc import Callable, Iterator

import grpc
import pytest
import redis

from gamectl.redislocal import RedisProcess
from gamectl.suite import RunningService
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from gateway.ratelimit.shared import KEY_PREFIX
from tests.e2e.callers import gateway_channel
from tests.e2e.conftest import E2ESuite, Load, Outcome, scrape
from tests.fixtures.eventually import eventually
from tests.fixtures.scraped import sample
from tests.fixtures.servers import wait_serving

pytestmark = pytest.mark.slow

RPS = 20.0
BURST = 5
REPLICAS = 3
CALL_TIMEOUT = 5.0
ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}

StartGateways = Callable[[], list[RunningService]]


@pytest.fixture(scope="module")
def game_name(platform_suite: E2ESuite) -> str:
    """A game to read, created through the suite's gateway with the admin key."""
    channel = gateway_channel(platform_suite, platform_suite.api_key("admin"))
    game = cpb.Game(display_name="Rate Limited", platform=cpb.PLATFORM_IOS, store_id="rate-limited-1")
    created = cpb_grpc.CatalogServiceStub(channel).CreateGame(
        cpb.CreateGameRequest(game=game, request_id=str(uuid.uuid4())), timeout=CALL_TIMEOUT
    )
    return created.game.name


@pytest.fixture
def start_gateways(platform_suite: E2ESuite, redis_server: RedisProcess) -> Iterator[StartGateways]:
    """Starts three extra gateways sharing `redis_server`; SIGTERMed after the test, before Redis stops."""

    def start() -> list[RunningService]:
        gateways = [
            platform_suite.start_gateway(
                index, redis_url=redis_server.url, replicas="1", api_keys_reload_seconds="0.2"
            )
            for index in range(REPLICAS)
        ]
        for gateway in gateways:
            wait_serving(gateway)
        return gateways

    yield start
    platform_suite.stop_extras()


def readers(
    suite: E2ESuite, gateways: list[RunningService], key: str, game: str
) -> list[Callable[[], object]]:
    """One GetGame caller per gateway, each on its own channel, with the given key."""
    stubs = [cpb_grpc.CatalogServiceStub(suite.channel(suite.target(g), key)) for g in gateways]
    request = cpb.GetGameRequest(name=game)
    return [functools.partial(stub.GetGame, request, timeout=CALL_TIMEOUT) for stub in stubs]


def admitted(
    outcomes: list[Outcome], *, lane: int | None = None, start: float = 0.0, end: float = math.inf
) -> int:
    """OK calls that ended within [start, end), of one lane or all."""
    return sum(
        1
        for o in outcomes
        if o.code is grpc.StatusCode.OK and start <= o.ended < end and (lane is None or o.lane == lane)
    )


def assert_only_ok_or_rate_limited(outcomes: list[Outcome]) -> None:
    """Every call was answered: admitted, or RESOURCE_EXHAUSTED with a RetryInfo delay."""
    unexpected = [o for o in outcomes if o.code not in ALLOWED]
    assert not unexpected, f"{len(unexpected)} calls failed otherwise, first: {unexpected[0]}"
    for outcome in outcomes:
        if outcome.code is grpc.StatusCode.RESOURCE_EXHAUSTED:
            assert outcome.details is not None
            assert outcome.details.reason == "RATE_LIMITED"
            assert outcome.details.retry_after is not None, "RESOURCE_EXHAUSTED without RetryInfo"
            assert 0 < outcome.details.retry_after <= 1 / RPS * BURST


def backend_states(gateways: list[RunningService]) -> list[tuple[float, float, float]]:
    """Per gateway: gateway_ratelimit_backend{redis}, {local}, and gateway_ratelimit_fallback_total."""
    states = []
    for gateway in gateways:
        samples = scrape(gateway)
        states.append(
            (
                sample(samples, "gateway_ratelimit_backend", backend="redis"),
                sample(samples, "gateway_ratelimit_backend", backend="local"),
                sample(samples, "gateway_ratelimit_fallback_total"),
            )
        )
    return states


def test_three_gateways_on_one_redis_admit_the_keys_limit(
    platform_suite: E2ESuite, start_gateways: StartGateways, game_name: str
) -> None:
    key = platform_suite.add_key("rl-shared", ["games.read"], rps=RPS, burst=BURST)
    gateways = start_gateways()  # after the key exists: no call waits for a keys-file re-read

    with Load(readers(platform_suite, gateways, key, game_name), threads_per_lane=2) as load:
        time.sleep(10.0)
    outcomes = load.outcomes()

    assert_only_ok_or_rate_limited(outcomes)
    elapsed = max(o.ended for o in outcomes) - min(o.started for o in outcomes)
    expected = BURST + RPS * elapsed
    got = admitted(outcomes)
    per_gateway = [admitted(outcomes, lane=lane) for lane in range(REPLICAS)]
    print(
        f"shared limit: {got} admitted of {len(outcomes)} calls in {elapsed:.2f}s; expected {expected:.1f};"
    )
    print(f"  per gateway {per_gateway}")
    assert len(outcomes) > 5 * expected, "the load did not keep the key over its limit"
    assert abs(got - expected) <= 0.05 * expected, f"admitted {got}, expected {expected:.1f} ± 5%"
    assert all(count > 0 for count in per_gateway), "every gateway admitted some of the shared limit"
    assert all(state[0] == 1 for state in backend_states(gateways)), "every gateway decided in Redis"


def test_redis_killed_and_restarted_under_load(
    platform_suite: E2ESuite, start_gateways: StartGateways, game_name: str, redis_server: RedisProcess
) -> None:
    key = platform_suite.add_key("rl-outage", ["games.read"], rps=RPS, burst=BURST)
    gateways = start_gateways()
    local_rps = RPS / REPLICAS
    eventually(
        lambda: all(sample(scrape(g), "gateway_ratelimit_replicas") == REPLICAS for g in gateways),
        timeout=15,  # each gateway reports itself every 5 s
        interval=0.2,
        what="the gateways counting each other in Redis",
    )

    with Load(readers(platform_suite, gateways, key, game_name), threads_per_lane=2) as load:
        time.sleep(2.0)
        redis_server.stop(kill=True)
        killed = time.monotonic()
        time.sleep(4.0)
        down = backend_states(gateways)
        redis_server.start()  # same port, empty
        restarted = time.monotonic()
        eventually(
            lambda: all(state[0] == 1 for state in backend_states(gateways)),
            timeout=10,
            what=lambda: f"the gateways back on Redis; backend states {backend_states(gateways)}",
        )
        back = time.monotonic()
        with redis.Redis.from_url(redis_server.url) as client:
            assert client.exists(KEY_PREFIX + "rl-outage"), "decisions are made in Redis again"
        time.sleep(3.0)
    outcomes = load.stop()

    # Calls kept being answered throughout: admitted, or refused with RetryInfo; nothing else.
    assert_only_ok_or_rate_limited(outcomes)
    assert [o.lane for o in outcomes if o.started > killed and o.ended < restarted], "calls went on"

    # Redis down: every gateway fell back to its local share of the limit and said so.
    assert all(state[:2] == (0, 1) and state[2] >= 1 for state in down), f"backend states {down}"
    window_start, window_end = killed + 0.5, restarted  # after each gateway's first failed decision
    local = [admitted(outcomes, lane=lane, start=window_start, end=window_end) for lane in range(REPLICAS)]
    local_expected = local_rps * (window_end - window_start)
    print(f"Redis down: per gateway {local} admitted; expected {local_expected:.1f} each (local share)")
    for count in local:
        assert abs(count - local_expected) <= 2 + 0.1 * local_expected, (local, local_expected)

    # Redis back: one shared limit again.
    window_start, window_end = back + 0.2, max(o.ended for o in outcomes)
    shared = admitted(outcomes, start=window_start, end=window_end)
    shared_expected = RPS * (window_end - window_start)
    print(f"Redis back: {shared} admitted; expected {shared_expected:.1f} (shared limit)")
    assert abs(shared - shared_expected) <= 3 + 0.05 * shared_expected, (shared, shared_expected)
