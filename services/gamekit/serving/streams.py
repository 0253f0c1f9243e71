"""Caps on open health and reflection streams, which any peer may hold open without a key.

Health and reflection are open to every caller (on the backends, to any platform certificate; on the
gateway, to anyone who can connect). A reflection stream holds a handler thread for as long as it is
open, since grpcio's reflection servicer waits for the next request on it; a health `Watch` holds
memory. So a server admits at most `total` of them at once, and at most `per_peer` from one peer (its
SPIFFE id when it showed a certificate, else its address without the port); beyond either, the new
stream is refused with RESOURCE_EXHAUSTED (reason TOO_MANY_STREAMS) and the open ones carry on. A
stream gives its place back when it ends, however it ends.

The platform interceptor applies the cap on the business port; `ProbeStreamCap` applies one on the
plaintext probe port, which has no other interceptor.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import grpc

from gamekit.errors import ResourceExhausted
from gamekit.security.identity import OPEN_SERVICES, service_of
from gamekit.serving.handlers import (
    SendResponse,
    behavior_of,
    is_non_blocking,
    mark_non_blocking,
    method_handler,
)
from gamekit.status import status_for

Release = Callable[[], None]

# A refused caller may try again once another stream has ended; sooner would likely be refused again.
RETRY_AFTER_SECONDS = 5.0


def is_open_stream(method: str, handler: grpc.RpcMethodHandler[Any, Any]) -> bool:
    """Whether a call is a stream of a service open to every peer (health Watch, reflection)."""
    streaming = handler.request_streaming or handler.response_streaming
    return streaming and service_of(method) in OPEN_SERVICES


def peer_address(context: grpc.ServicerContext) -> str:
    """The caller's address without its port: 'ipv4:10.0.0.7' from 'ipv4:10.0.0.7:51234'."""
    peer = context.peer()
    host, colon, port = peer.rpartition(":")
    return host if colon and port.isdigit() else peer


class StreamCap:
    """Counts open streams per peer and in total, and refuses one that would pass either cap."""

    def __init__(self, *, total: int, per_peer: int) -> None:
        self.total = total
        self.per_peer = per_peer
        self._open: Counter[str] = Counter()
        self._lock = threading.Lock()

    def admit(self, peer: str) -> Release:
        """Count one more stream of `peer` and return what gives its place back; ResourceExhausted if full."""
        with self._lock:
            if self._open[peer] >= self.per_peer:
                raise ResourceExhausted(
                    f"at most {self.per_peer} health and reflection streams may be open from one caller;"
                    " close one first",
                    retry_after=RETRY_AFTER_SECONDS,
                    reason="TOO_MANY_STREAMS",
                )
            if self._open.total() >= self.total:
                raise ResourceExhausted(
                    f"this server has {self.total} health and reflection streams open, its most; retry later",
                    retry_after=RETRY_AFTER_SECONDS,
                    reason="TOO_MANY_STREAMS",
                )
            self._open[peer] += 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                self._open[peer] -= 1
                if not self._open[peer]:
                    del self._open[peer]

        return release

    def hold(self, peer: str, context: grpc.ServicerContext) -> None:
        """Admit a stream of `peer` for as long as the call of `context` lasts."""
        release = self.admit(peer)
        if not context.add_callback(release):
            release()  # the call has ended already


class ProbeStreamCap(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """The stream cap on the plaintext probe port, where the only stream is the health Watch.

    Peers there show no certificate, so each is its address. A refusal is answered here, without the
    platform interceptor's metrics and access log, which probes do not need.
    """

    def __init__(self, cap: StreamCap) -> None:
        self.cap = cap

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """The handler, its streams counted against the cap."""
        handler = continuation(handler_call_details)
        if handler is None or not is_open_stream(handler_call_details.method, handler):
            return handler
        behavior = behavior_of(handler)
        if not is_non_blocking(behavior):
            raise TypeError(f"{handler_call_details.method} would hold a probe thread while open")

        def capped(request: Any, context: grpc.ServicerContext, send_response: SendResponse) -> Any:
            try:
                self.cap.hold(peer_address(context), context)
            except ResourceExhausted as error:
                context.abort_with_status(status_for(error, None))
            return behavior(request, context, send_response)

        return method_handler(
            mark_non_blocking(capped, behavior),
            handler.request_streaming,
            handler.response_streaming,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
