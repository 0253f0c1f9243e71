"""An in-process GCRA rate limiter, and the `Decision` every limiter returns.

GCRA (the generic cell rate algorithm) keeps one number per key, the theoretical arrival time (TAT):
when the key's next call would be due if calls came exactly at the steady rate. With emission interval
T = 1/rps and burst capacity B, a call at `now` is admitted when `max(TAT, now) + T - B*T <= now`, and
then TAT becomes `max(TAT, now) + T`. A fresh key therefore admits B calls at once, then one every T:
the same behaviour as a token bucket of size B refilled at rps, with one stored value instead of two.
The Redis limiter runs the same arithmetic in a Lua script (shared.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Keys whose TAT has passed are equivalent to absent ones; sweep them once the table grows this large
# so a stream of distinct key ids cannot grow memory without bound.
_SWEEP_THRESHOLD = 10_000


@dataclass(frozen=True)
class Decision:
    """Whether one call is admitted, and if not, how long until one would be."""

    allowed: bool
    retry_after: float  # seconds until a call would be admitted (0 when allowed)


def gcra_step(*, tat: int, now: int, interval: int, burst: int) -> tuple[Decision, int]:
    """One GCRA decision in integer nanoseconds: the outcome and the key's new TAT (same if rejected)."""
    new_tat = max(tat, now) + interval
    allow_at = new_tat - interval * burst
    if allow_at > now:
        # Rounded up to whole microseconds, as the Redis limiter does: RetryInfo's delay goes through a
        # timedelta, which would turn a wait of a few nanoseconds into "retry after 0 s".
        return Decision(allowed=False, retry_after=-(-(allow_at - now) // 1000) / 1e6), tat
    return Decision(allowed=True, retry_after=0.0), new_tat


class LocalGcra:
    """A thread-safe GCRA over a dict in this process; limits are per call, state per key."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tats: dict[str, int] = {}  # TAT in nanoseconds of the clock
        self._lock = threading.Lock()

    def check(self, key: str, *, rps: float, burst: int) -> Decision:
        """Decide one call for `key` at `rps` with burst capacity `burst`."""
        # Integers, not float seconds: with floats, `tat + T - B*T` can land a rounding error above
        # `now` and refuse the last call of a burst.
        interval = max(1, round(1e9 / rps))
        with self._lock:
            now = round(self._clock() * 1e9)
            decision, tat = gcra_step(tat=self._tats.get(key, now), now=now, interval=interval, burst=burst)
            self._tats[key] = tat
            if len(self._tats) > _SWEEP_THRESHOLD:
                self._tats = {k: v for k, v in self._tats.items() if v > now}
            return decision

    def reset(self) -> None:
        """Forget every key's state."""
        with self._lock:
            self._tats.clear()
