"""The shared GCRA rate limiter: one atomic Lua script per decision in Redis.

Every gateway replica runs the same script against the same key, so they share one limit. The script
reads the clock with Redis's TIME, not the caller's: replicas whose clocks disagree still agree on
`now`. It stores the key's theoretical arrival time (microseconds since the epoch) with a PX expiry
equal to the time until that TAT passes, after which a missing key means the same as an expired TAT,
so idle keys cost no memory. The arithmetic is the one in local.py; see its docstring.

Redis errors are not wrapped here: the caller (limiter.py) treats any `redis.RedisError` as "Redis is
unavailable" and falls back to its local limiter.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from gateway.ratelimit.local import Decision

KEY_PREFIX = "gateway:ratelimit:"

# KEYS[1] the key; ARGV[1] emission interval in whole microseconds (1e6 / rps); ARGV[2] burst capacity.
# Returns {1 allowed | 0 rejected, microseconds until a call would be admitted}. Every value is a whole
# number of microseconds (exact in Lua's doubles up to 2**53, some 285 years past the epoch), so no
# rounding error can refuse the last call of a burst.
GCRA_SCRIPT = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at > now then
  return {0, math.ceil(allow_at - now)}
end
local ttl_ms = math.max(1, math.ceil((new_tat - now) / 1000))
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
return {1, 0}
"""


class RedisGcra:
    """A GCRA limiter whose state lives in Redis; short timeouts and no retries, so failures are quick."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # redis-py retries ten times with backoff by default; the caller has a fallback instead.
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self._script = self._client.register_script(GCRA_SCRIPT)

    def check(self, key: str, *, rps: float, burst: int) -> Decision:
        """Decide one call for `key`; raises `redis.RedisError` when Redis does not answer."""
        interval_us = max(1, round(1_000_000 / rps))
        result = self._script(keys=[KEY_PREFIX + key], args=[interval_us, burst])
        allowed, retry_after_us = int(result[0]), int(result[1])
        return Decision(allowed=allowed == 1, retry_after=retry_after_us / 1_000_000.0)

    @property
    def client(self) -> redis.Redis:
        """The client (short timeouts, no retries), for the replica census to share."""
        return self._client

    def close(self) -> None:
        """Close every pooled connection."""
        self._client.close()
