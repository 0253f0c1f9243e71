"""How many calls a server takes at once: beyond its limit, RESOURCE_EXHAUSTED at once, said clearly.

grpcio hands every call it accepts to the handler pool, where the call runs on a handler thread or waits
for one. Unbounded, that queue makes every caller of a saturated replica wait out its deadline instead
of being told at once and retrying (elsewhere, or later). grpcio's own `maximum_concurrent_rpcs` bounds
it, but refuses with a bare "Concurrent RPC limit exceeded!" decided before any interceptor runs: no
ErrorInfo or RetryInfo, no metric, no access log line.

So `HandlerPool` counts the calls it holds (running or waiting) and, once it holds `limit`, runs the
next one on its small refusal pool instead. The platform interceptor, finding itself on a refusal
thread, answers RESOURCE_EXHAUSTED (reason SERVER_BUSY) before doing anything else, counted and logged
like any refusal. grpcio's own limit is still set, `REFUSAL_BACKLOG` above ours (`grpc_limit`), as the
backstop should refusals themselves pile up: a refusal runs once the request has arrived, so a caller
that opens calls and never sends one holds a refusal thread until its deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent import futures
from typing import ParamSpec, TypeVar

from gamekit.errors import ResourceExhausted

P = ParamSpec("P")
T = TypeVar("T")

REFUSAL_THREADS = 2
REFUSAL_BACKLOG = 64
# Long enough for a few calls on a handler thread to finish; a caller's retry policy may also go elsewhere.
BUSY_RETRY_AFTER_SECONDS = 0.5

_thread = threading.local()


def _mark_refusal_thread() -> None:
    _thread.refuses = True


def refusing() -> bool:
    """Whether the call being handled on this thread came when the server held its limit of calls."""
    return bool(getattr(_thread, "refuses", False))


def server_busy(limit: int) -> ResourceExhausted:
    """The refusal of a call beyond the limit."""
    return ResourceExhausted(
        f"this server is handling {limit} calls, the most it takes at once; retry shortly",
        retry_after=BUSY_RETRY_AFTER_SECONDS,
        reason="SERVER_BUSY",
    )


class HandlerPool(futures.ThreadPoolExecutor):
    """The handler threads, holding at most `limit` calls; past it, calls go to the refusal threads."""

    def __init__(self, workers: int, *, limit: int) -> None:
        super().__init__(workers, thread_name_prefix="grpc-handler")
        self.limit = limit
        self._held = 0
        self._lock = threading.Lock()
        self._refusals = futures.ThreadPoolExecutor(
            REFUSAL_THREADS, thread_name_prefix="grpc-refusal", initializer=_mark_refusal_thread
        )

    @property
    def grpc_limit(self) -> int:
        """grpcio's `maximum_concurrent_rpcs`: our limit plus room for the refusals in progress."""
        return self.limit + REFUSAL_BACKLOG

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> futures.Future[T]:
        """Run a call on a handler thread, or on a refusal thread once `limit` calls are held."""
        with self._lock:
            admitted = self._held < self.limit
            if admitted:
                self._held += 1
        if not admitted:
            return self._refusals.submit(fn, *args, **kwargs)
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(lambda _: self._release())
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut both pools down."""
        self._refusals.shutdown(wait, cancel_futures=cancel_futures)
        super().shutdown(wait, cancel_futures=cancel_futures)

    def _release(self) -> None:
        with self._lock:
            self._held -= 1
