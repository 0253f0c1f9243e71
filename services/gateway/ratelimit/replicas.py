"""How many gateway replicas share the Redis rate limits: each counts itself in Redis every few seconds.

While Redis fails, each replica admits its share of every limit, the limit divided by the replica
count. A fixed count goes wrong as soon as the HorizontalPodAutoscaler moves the replicas, so each
replica reports itself in a Redis sorted set (scored with Redis's clock) and reads how many reported
recently. When Redis fails, the last count seen stands: the replicas alive just before the outage.
`GATEWAY_REPLICAS` counts only until the first report succeeds. A replica that stops cleanly leaves
the set at once; one that dies drops out after `lasts` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid

import redis
from prometheus_client import Gauge

from gateway.ratelimit.shared import KEY_PREFIX

_log = logging.getLogger(__name__)

REPLICAS = Gauge(
    "gateway_ratelimit_replicas",
    "Gateway replicas sharing the Redis rate limits, as last counted; each one's share while Redis fails.",
)

REPORT_SECONDS = 5.0
# Under the rate limits' prefix, so one ACL key pattern covers both; "@" is in no key id, so no limit
# can collide with it.
REPLICAS_KEY = KEY_PREFIX + "@replicas"

# KEYS[1] the replicas sorted set; ARGV[1] this replica's id; ARGV[2] how long a report lasts, in ms.
# Scores are Redis's own clock, like the GCRA's. Returns how many replicas reported within that time.
REPORT_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local lasts = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - lasts)
redis.call('PEXPIRE', KEYS[1], lasts)
return redis.call('ZCARD', KEYS[1])
"""


class ReplicaCensus:
    """A thread that reports this replica alive in Redis every `every` seconds and keeps the count."""

    def __init__(self, client: redis.Redis, *, configured: int, every: float = REPORT_SECONDS) -> None:
        self._client = client
        self._report_script = client.register_script(REPORT_SCRIPT)
        self._every = every
        # Two missed reports are forgiven, and never less than five seconds: a process starved of CPU
        # for a moment is not a dead one (a clean stop leaves at once anyway).
        self._lasts_ms = max(5000, round(3 * every * 1000))
        self._id = uuid.uuid4().hex
        self._count = configured
        self._refused = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gateway-replicas", daemon=True)
        REPLICAS.set(configured)

    @property
    def count(self) -> int:
        """The replicas last counted (at least 1), or the configured number before the first count."""
        return self._count

    def start(self) -> ReplicaCensus:
        """Report now and then every `every` seconds; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop reporting and leave the count (best effort: Redis may be the reason we stop)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        with contextlib.suppress(redis.RedisError):
            self._client.zrem(REPLICAS_KEY, self._id)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._report()
            self._stop.wait(self._every)

    def _report(self) -> None:
        try:
            counted = int(self._report_script(keys=[REPLICAS_KEY], args=[self._id, self._lasts_ms]))
        except redis.ResponseError as exc:
            # Redis answers but refuses (an ACL, a read-only replica): nothing else would say so.
            if not self._refused:
                _log.warning("gateway replicas cannot count each other in Redis: %s", exc)
                self._refused = True
            return
        except redis.RedisError:
            return  # the rate limiter says Redis failed, once; the count seen last stands
        self._refused = False
        counted = max(1, counted)
        if counted != self._count:
            _log.info("gateway replicas sharing the rate limits: %d", counted)
            self._count = counted
            REPLICAS.set(counted)
