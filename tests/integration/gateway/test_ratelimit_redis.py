"""The shared rate limiter on a real, private redis-server: accuracy across replicas, outages, recovery."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from prometheus_client import REGISTRY

from gamectl.net import free_port
from gamectl.redislocal import RedisProcess
from gateway.ratelimit.limiter import RateLimiter
from gateway.ratelimit.shared import KEY_PREFIX
from tests.fixtures.eventually import eventually
from tests.fixtures.servers import stopping

pytestmark = pytest.mark.slow


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _fallbacks() -> float:
    return _sample("gateway_ratelimit_fallback_total")


@pytest.fixture
def limiters() -> Iterator[Callable[..., RateLimiter]]:
    """Makes RateLimiters, all closed after the test."""
    with stopping(RateLimiter.close) as keep:
        yield lambda **kwargs: keep(RateLimiter(**kwargs))


@pytest.fixture
def redis_client(redis_server: RedisProcess) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


def _admit_for(limiter: RateLimiter, key: str, seconds: float) -> tuple[int, float]:
    """Call as fast as sensible for `seconds`; the admitted count and the span from first to last call."""
    admitted = 0
    start = time.monotonic()
    last = start
    while last - start < seconds:
        admitted += limiter.check(key).allowed
        last = time.monotonic()
        time.sleep(0.001)
    return admitted, last - start


def sharing(
    limiters: Callable[..., RateLimiter], redis_server: RedisProcess, count: int, **settings: object
) -> list[RateLimiter]:
    """`count` limiters on one Redis (reporting every 50 ms), once each has counted all of them."""
    made = [limiters(redis_url=redis_server.url, census_seconds=0.05, **settings) for _ in range(count)]
    for limiter in made:
        wait_for_count(limiter, count)
    return made


def wait_for_count(limiter: RateLimiter, replicas: int, timeout: float = 5.0) -> None:
    """Until `limiter` has counted `replicas` gateways sharing its Redis."""
    eventually(
        lambda: limiter.replicas == replicas,
        timeout=timeout,
        interval=0.01,
        what=lambda: f"{replicas} replicas counted; {limiter.replicas} are",
    )


def wait_back_on_redis(limiter: RateLimiter, timeout: float = 10.0) -> None:
    """Until `limiter` decides in Redis again (it probes Redis again only when asked to decide)."""

    def back() -> bool:
        if not limiter.using_redis:
            limiter.check("k")
        return limiter.using_redis

    eventually(back, timeout=timeout, interval=0.01, what="the limiter deciding in Redis again")


def test_three_replicas_share_one_limit(
    redis_server: RedisProcess,
    limiters: Callable[..., RateLimiter],
) -> None:
    rps, burst, duration = 50.0, 10, 3.0
    replicas = [
        limiters(redis_url=redis_server.url, default_rps=rps, default_burst=burst, replicas=3)
        for _ in range(3)
    ]
    fallbacks = _fallbacks()
    counts = [0] * len(replicas)
    barrier = threading.Barrier(len(replicas) + 1)

    def run(index: int) -> None:
        barrier.wait()
        counts[index], _ = _admit_for(replicas[index], "shared", duration)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(replicas))]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start

    expected = burst + rps * elapsed
    assert all(limiter.using_redis for limiter in replicas)
    assert _fallbacks() == fallbacks
    assert abs(sum(counts) - expected) <= 0.05 * expected, (counts, elapsed, expected)
    assert all(count > 0 for count in counts)  # each replica got a share, not one replica all of it


def test_burst_retry_after_and_expiry_in_redis(
    redis_server: RedisProcess,
    redis_client: redis.Redis,
    limiters: Callable[..., RateLimiter],
) -> None:
    limiter = limiters(redis_url=redis_server.url, default_rps=1, default_burst=100)
    decisions = [limiter.check("own", rps=0.5, burst=3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 1.0 < decisions[-1].retry_after <= 2.0
    assert limiter.check("other", rps=0.5, burst=3).allowed
    # The stored arrival time expires when it passes: three calls at 2 s each, about 6 s from now.
    assert 4000 < redis_client.pttl(KEY_PREFIX + "own") <= 6000


@pytest.mark.parametrize("kill", [True, False], ids=["killed", "stopped"])
def test_redis_down_falls_back_to_local_share_then_recovers(
    redis_server: RedisProcess,
    redis_client: redis.Redis,
    limiters: Callable[..., RateLimiter],
    caplog: pytest.LogCaptureFixture,
    kill: bool,
) -> None:
    rps, burst, replicas = 50.0, 10, 2
    limiter, _other = sharing(
        limiters, redis_server, replicas, default_rps=rps, default_burst=burst, fallback_probe_seconds=0.2
    )
    assert limiter.check("k").allowed
    assert limiter.using_redis
    fallbacks = _fallbacks()

    redis_server.stop(kill=kill)
    with caplog.at_level(logging.INFO, logger="gateway.ratelimit.limiter"):
        admitted, elapsed = _admit_for(limiter, "k", 2.0)
    assert not limiter.using_redis
    assert _fallbacks() == fallbacks + 1  # one switch, however many failed probes
    assert _sample("gateway_ratelimit_backend", backend="local") == 1
    assert _sample("gateway_ratelimit_backend", backend="redis") == 0
    expected = burst // replicas + rps / replicas * elapsed
    assert abs(admitted - expected) <= 0.05 * expected + 1, (admitted, elapsed, expected)
    assert len([r for r in caplog.records if "falling back" in r.getMessage()]) == 1

    redis_server.start()
    wait_back_on_redis(limiter)
    assert _sample("gateway_ratelimit_backend", backend="redis") == 1
    # Decisions come from the restarted server (a slow limit keeps the key long enough to see it).
    assert limiter.check("after", rps=0.01, burst=1).allowed
    assert redis_client.exists(KEY_PREFIX + "after")
    assert _fallbacks() == fallbacks + 1


def test_replicas_count_each_other_in_redis(limiters: Callable[..., RateLimiter], redis_server: RedisProcess):
    # GATEWAY_REPLICAS says 1: the HPA has moved the replicas since it was set.
    three = sharing(limiters, redis_server, 3, default_rps=5, default_burst=1, replicas=1)
    assert _sample("gateway_ratelimit_replicas") == 3
    three[0].close()  # a clean stop leaves the count at once
    wait_for_count(three[1], 2)
    redis_server.stop(kill=True)
    three[1].check("k")  # fails over to the local limiter
    assert not three[1].using_redis
    time.sleep(0.3)  # reports fail meanwhile: the count seen last stands
    assert three[1].replicas == 2


def test_frozen_redis_times_out_into_the_fallback(
    redis_server: RedisProcess,
    limiters: Callable[..., RateLimiter],
) -> None:
    limiter, _other = sharing(
        limiters, redis_server, 2, default_rps=10, default_burst=4, fallback_probe_seconds=0.2
    )
    assert limiter.check("k").allowed
    fallbacks = _fallbacks()
    redis_server.pause()
    try:
        decisions = [limiter.check("k") for _ in range(3)]
        assert [d.allowed for d in decisions] == [True, True, False]  # the local share: burst 4 / 2
        assert not limiter.using_redis
        assert _fallbacks() == fallbacks + 1
    finally:
        redis_server.resume()
    wait_back_on_redis(limiter)


def test_unreachable_redis_from_the_start(limiters: Callable[..., RateLimiter]) -> None:
    limiter = limiters(
        redis_url=f"redis://127.0.0.1:{free_port()}/0", default_rps=1, default_burst=3, replicas=3
    )
    fallbacks = _fallbacks()
    assert limiter.using_redis  # nothing is known until the first decision
    assert [limiter.check("k").allowed for _ in range(2)] == [True, False]
    assert not limiter.using_redis
    assert _fallbacks() == fallbacks + 1
