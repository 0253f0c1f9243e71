"""Per-call values the server interceptor sets and the rest of the process reads.

Handlers run on pool threads, so these are contextvars set and reset around each call: logs pick up
the request id, and outgoing calls (gamekit.client) shorten their timeout to the incoming deadline.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

REQUEST_ID_HEADER = "x-request-id"

_request_id: ContextVar[str | None] = ContextVar("gamekit_request_id", default=None)
# A time.monotonic() instant, so wall-clock jumps never stretch or cut a deadline.
_deadline: ContextVar[float | None] = ContextVar("gamekit_deadline", default=None)


def new_request_id() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The request id of the call being handled, if any."""
    return _request_id.get()


def time_remaining() -> float | None:
    """Seconds left before the incoming call's deadline (never negative), or None without one."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


@contextlib.contextmanager
def call_scope(request_id: str | None, remaining: float | None = None) -> Iterator[None]:
    """Bind a request id and the remaining time of the incoming call for the code inside."""
    id_token = _request_id.set(request_id)
    deadline = None if remaining is None else time.monotonic() + remaining
    deadline_token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(deadline_token)
        _request_id.reset(id_token)
