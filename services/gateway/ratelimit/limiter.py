"""Per-key rate limits shared by every gateway replica, with a local fallback when Redis fails.

With a Redis URL, each decision is one atomic GCRA script in Redis (shared.py), so all
replicas share one limit per key. Without one, an in-process GCRA decides at the full limit
(local.py; `replicas` matters only to the fallback). When Redis fails (connection refused,
a timeout, any Redis error), the limiter switches to the local GCRA with the limit divided by the
replica count (counted in Redis while it answered, see replicas.py), so the replicas together still
admit roughly the limit; it logs one line, counts the switch, and tries Redis again at most every
`fallback_probe_seconds`, using the next real decision as the probe. When Redis answers, it switches
back and logs that too.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time

import redis
from prometheus_client import Counter, Gauge

from gateway.ratelimit.local import Decision, LocalGcra
from gateway.ratelimit.replicas import REPORT_SECONDS, ReplicaCensus
from gateway.ratelimit.shared import RedisGcra

__all__ = ["REDIS_TIMEOUT_SECONDS", "Decision", "RateLimiter"]

_log = logging.getLogger(__name__)

# Short: a decision sits in front of every call, and a dead Redis must cost milliseconds, not seconds.
REDIS_TIMEOUT_SECONDS = 0.1

DECISIONS = Counter("gateway_ratelimit_decisions_total", "Rate-limit decisions, by outcome.", ["outcome"])
FALLBACKS = Counter(
    "gateway_ratelimit_fallback_total", "Switches from the Redis rate limiter to the local one."
)
BACKEND = Gauge(
    "gateway_ratelimit_backend", "The rate limiter deciding right now (1) and the other (0).", ["backend"]
)


class RateLimiter:
    """Per-key GCRA limits: in Redis when given a URL (local while it fails), else in this process."""

    def __init__(
        self,
        *,
        redis_url: str | None,
        default_rps: float,
        default_burst: int,
        replicas: int = 1,
        fallback_probe_seconds: float = 1.0,
        census_seconds: float = REPORT_SECONDS,
    ) -> None:
        _check_limit(default_rps, default_burst)
        if replicas < 1:
            raise ValueError(f"replicas must be at least 1, not {replicas}")
        self._default_rps = default_rps
        self._default_burst = default_burst
        self._replicas = replicas
        self._probe_seconds = fallback_probe_seconds
        self._local = LocalGcra()
        self._redis = RedisGcra(redis_url, timeout=REDIS_TIMEOUT_SECONDS) if redis_url else None
        self._census = (
            ReplicaCensus(self._redis.client, configured=replicas, every=census_seconds).start()
            if self._redis is not None
            else None
        )
        self._lock = threading.Lock()
        self._using_redis = self._redis is not None
        self._next_probe = 0.0
        _set_backend(shared=self._using_redis)

    @property
    def replicas(self) -> int:
        """The replicas sharing the limits: counted in Redis, else as configured."""
        return self._census.count if self._census is not None else self._replicas

    @property
    def using_redis(self) -> bool:
        """Whether decisions come from Redis right now."""
        return self._using_redis

    def check(self, key_id: str, *, rps: float | None = None, burst: int | None = None) -> Decision:
        """Decide one call for `key_id` at its own limit, or the default one; never raises for Redis."""
        rps = self._default_rps if rps is None else rps
        burst = self._default_burst if burst is None else burst
        _check_limit(rps, burst)
        decision = self._decide(key_id, rps, burst)
        _decisions(decision.allowed).inc()
        return decision

    def close(self) -> None:
        """Leave the replica count and release the Redis connections (idempotent)."""
        if self._census is not None:
            self._census.stop()
        if self._redis is not None:
            self._redis.close()

    def _decide(self, key_id: str, rps: float, burst: int) -> Decision:
        if self._redis is None:
            return self._local.check(key_id, rps=rps, burst=burst)
        shared = self._check_redis(self._redis, key_id, rps, burst)
        if shared is not None:
            return shared
        # Redis is down: this replica's share of the limit.
        replicas = self.replicas
        return self._local.check(key_id, rps=rps / replicas, burst=max(1, burst // replicas))

    def _check_redis(self, backend: RedisGcra, key_id: str, rps: float, burst: int) -> Decision | None:
        probing = not self._using_redis
        if probing and not self._claim_probe():
            return None
        try:
            decision = backend.check(key_id, rps=rps, burst=burst)
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return None
        if probing:
            with self._lock:
                self._using_redis = True
            _set_backend(shared=True)
            _log.info("rate limiter: Redis answers again; back to the shared Redis limiter")
        return decision

    def _claim_probe(self) -> bool:
        # Only the first caller after each probe interval probes; the others stay local meanwhile.
        with self._lock:
            now = time.monotonic()
            if self._using_redis or now < self._next_probe:
                return False
            self._next_probe = now + self._probe_seconds
            return True

    def _redis_failed(self, exc: redis.RedisError) -> None:
        with self._lock:
            switched, self._using_redis = self._using_redis, False
            if switched:
                self._next_probe = time.monotonic() + self._probe_seconds
        if switched:
            FALLBACKS.inc()
            _set_backend(shared=False)
            _log.warning(
                "rate limiter: Redis failed (%s: %s); falling back to the local limiter (limit / %d)",
                type(exc).__name__,
                exc,
                self.replicas,
            )


@functools.cache
def _decisions(allowed: bool) -> Counter:
    # Looked up once per outcome: a decision sits in front of every call.
    return DECISIONS.labels(outcome="allowed" if allowed else "rejected")


def _check_limit(rps: float, burst: int) -> None:
    if not (rps > 0 and math.isfinite(rps)):
        raise ValueError(f"a rate limit must be a positive number of calls per second, not {rps!r}")
    if burst < 1:
        raise ValueError(f"a burst capacity must be at least 1, not {burst!r}")


def _set_backend(*, shared: bool) -> None:
    BACKEND.labels(backend="redis").set(1 if shared else 0)
    BACKEND.labels(backend="local").set(0 if shared else 1)
