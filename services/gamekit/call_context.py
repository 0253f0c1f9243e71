"""Per-call values the server interceptor sets and the rest of the process reads.

Handlers run on pool threads, so these are contextvars set and reset around each call: logs pick up the
request id, outgoing calls (gamekit.clients.channels) shorten their timeout to the incoming deadline, and
an interceptor of a service's own reads the peer's identity without parsing its certificate again.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from contextvars import ContextVar

REQUEST_ID_HEADER = "x-request-id"
# Who the gateway is calling for (an API key's id); a backend believes it only from the gateway's identity.
CALLER_HEADER = "x-games-caller"

_request_id: ContextVar[str | None] = ContextVar("gamekit_request_id", default=None)
# A time.monotonic() instant, so wall-clock jumps never stretch or cut a deadline.
_deadline: ContextVar[float | None] = ContextVar("gamekit_deadline", default=None)
_peer: ContextVar[str | None] = ContextVar("gamekit_peer", default=None)
_caller: ContextVar[str | None] = ContextVar("gamekit_caller", default=None)


def new_request_id() -> str:
    """A fresh request id: 32 random hex digits (the shape of a uuid4's hex, at a third of its cost)."""
    return secrets.token_hex(16)


def current_request_id() -> str | None:
    """The request id of the call being handled, if any."""
    return _request_id.get()


def current_peer() -> str | None:
    """The SPIFFE id of the peer of the call being handled, if it presented one."""
    return _peer.get()


def current_caller() -> str | None:
    """Who the call being handled is made for, as the gateway authenticated them, if it did."""
    return _caller.get()


@contextlib.contextmanager
def acting_for(caller: str) -> Iterator[None]:
    """Outgoing calls inside carry `caller` in the x-games-caller header (the gateway's forwarding)."""
    token = _caller.set(caller)
    try:
        yield
    finally:
        _caller.reset(token)


def time_remaining() -> float | None:
    """Seconds left before the incoming call's deadline (never negative), or None without one."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


@contextlib.contextmanager
def call_scope(
    request_id: str | None, remaining: float | None = None, peer: str | None = None
) -> Iterator[None]:
    """Bind a request id, the remaining time and the peer of the incoming call for the code inside."""
    id_token = _request_id.set(request_id)
    deadline = None if remaining is None else time.monotonic() + remaining
    deadline_token = _deadline.set(deadline)
    peer_token = _peer.set(peer)
    try:
        yield
    finally:
        _peer.reset(peer_token)
        _deadline.reset(deadline_token)
        _request_id.reset(id_token)
