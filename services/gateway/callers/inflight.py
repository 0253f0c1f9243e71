"""Calls in flight per caller, counted in this replica: a key's long calls cannot take every worker.

The rate limiter counts calls per second; a caller within it can still start calls that last minutes
(AcceptFile, a backend that stalls), and each holds one of the replica's worker threads until it ends.
So each replica also counts, per key id, the calls it is handling now, and refuses one more past the
key's `max_in_flight` (its keys-file entry, else GATEWAY_DEFAULT_MAX_IN_FLIGHT). The count is kept per
replica on purpose, not in Redis: what it protects, the worker threads, belong to the replica, and a
count in memory cannot outlive a replica that dies mid-call; across N replicas a key may hold N times
its limit.
"""

from __future__ import annotations

import threading


class InFlightCounts:
    """Calls being handled now, per key id; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def try_enter(self, key_id: str, limit: int) -> bool:
        """Count one more call of `key_id`, unless it already has `limit` in flight (then False)."""
        with self._lock:
            held = self._counts.get(key_id, 0)
            if held >= limit:
                return False
            self._counts[key_id] = held + 1
            return True

    def leave(self, key_id: str) -> None:
        """One call of `key_id` ended."""
        with self._lock:
            left = self._counts.get(key_id, 0) - 1
            if left > 0:
                self._counts[key_id] = left
            else:
                self._counts.pop(key_id, None)
