"""The in-process GCRA: a burst, then the steady rate, with sensible retry-after values."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.ratelimit.limiter import Decision, RateLimiter
from gateway.ratelimit.local import LocalGcra


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_steady_rate() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock=clock)
    assert [gcra.check("k", rps=10, burst=5).allowed for _ in range(5)] == [True] * 5
    refused = gcra.check("k", rps=10, burst=5)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.1)

    clock.now += 0.05
    assert gcra.check("k", rps=10, burst=5).retry_after == pytest.approx(0.05)
    clock.now += 0.05
    assert gcra.check("k", rps=10, burst=5) == Decision(allowed=True, retry_after=0.0)
    assert not gcra.check("k", rps=10, burst=5).allowed

    admitted = 0
    for _ in range(1000):  # 10 s in 10 ms steps: one call per step, 100 admitted at 10 rps
        clock.now += 0.01
        admitted += gcra.check("k", rps=10, burst=5).allowed
    assert admitted == pytest.approx(100, abs=1)


def test_idle_key_refills_up_to_the_burst_only() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock=clock)
    for _ in range(3):
        gcra.check("k", rps=1, burst=3)
    clock.now += 3600
    assert [gcra.check("k", rps=1, burst=3).allowed for _ in range(4)] == [True, True, True, False]


def test_keys_are_independent() -> None:
    gcra = LocalGcra(clock=FakeClock())
    assert gcra.check("a", rps=1, burst=1).allowed
    assert not gcra.check("a", rps=1, burst=1).allowed
    assert gcra.check("b", rps=1, burst=1).allowed


def test_retry_after_is_exact_for_a_slow_limit() -> None:
    clock = FakeClock()
    gcra = LocalGcra(clock=clock)
    gcra.check("k", rps=0.5, burst=1)
    clock.now += 0.5
    assert gcra.check("k", rps=0.5, burst=1).retry_after == pytest.approx(1.5)


def test_a_refusal_never_says_retry_after_zero() -> None:
    # A call a few nanoseconds early still waits: RetryInfo carries microseconds, so round up to one.
    clock = FakeClock()
    gcra = LocalGcra(clock=clock)
    gcra.check("k", rps=10, burst=1)
    clock.now += 0.1 - 3e-9
    refused = gcra.check("k", rps=10, burst=1)
    assert not refused.allowed
    assert refused.retry_after == 1e-6


def test_concurrent_callers_share_one_limit() -> None:
    gcra = LocalGcra(clock=FakeClock())  # frozen clock: exactly the burst is admitted
    admitted: list[bool] = []
    lock = threading.Lock()

    def call() -> None:
        for _ in range(100):
            allowed = gcra.check("k", rps=1, burst=50).allowed
            with lock:
                admitted.append(allowed)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(admitted) == 50


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_rate_limiter_without_redis_uses_defaults_and_per_key_limits() -> None:
    limiter = RateLimiter(redis_url=None, default_rps=1, default_burst=2, replicas=3)
    try:
        assert not limiter.using_redis
        assert _sample("gateway_ratelimit_backend", backend="local") == 1
        allowed = _sample("gateway_ratelimit_decisions_total", outcome="allowed")
        rejected = _sample("gateway_ratelimit_decisions_total", outcome="rejected")
        # Without Redis the limit is not divided: replicas only matter for the fallback.
        assert [limiter.check("k").allowed for _ in range(3)] == [True, True, False]
        assert [limiter.check("own", rps=1, burst=4).allowed for _ in range(5)] == [True] * 4 + [False]
        refused = limiter.check("k")
        assert 0 < refused.retry_after <= 1.0
        assert _sample("gateway_ratelimit_decisions_total", outcome="allowed") == allowed + 6
        assert _sample("gateway_ratelimit_decisions_total", outcome="rejected") == rejected + 3
    finally:
        limiter.close()
        limiter.close()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"default_rps": 0, "default_burst": 1},
        {"default_rps": float("inf"), "default_burst": 1},
        {"default_rps": 1, "default_burst": 0},
        {"default_rps": 1, "default_burst": 1, "replicas": 0},
    ],
)
def test_invalid_limits_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        RateLimiter(redis_url=None, **kwargs)


def test_invalid_per_key_limit_is_refused() -> None:
    limiter = RateLimiter(redis_url=None, default_rps=1, default_burst=1)
    with pytest.raises(ValueError, match="burst"):
        limiter.check("k", burst=0)
