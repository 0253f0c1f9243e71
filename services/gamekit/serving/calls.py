"""What the platform interceptor knows of a method (`Route`, once) and of one call (`Call`), and the
`Gate` protocol by which a service adds its own check of each call (the gateway's API keys).

A call's request id, metadata, peer and deadline are read on the handler thread when the call starts,
never on gRPC's polling thread, which serves every call of the server in turn.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from prometheus_client import Gauge, Histogram

from gamekit.call_context import REQUEST_ID_HEADER, call_scope, new_request_id
from gamekit.observability import metrics
from gamekit.security.identity import (
    OPEN_SERVICES,
    method_of,
    peer_certificate,
    service_of,
    spiffe_id_from_pem,
)
from gamekit.serving.malformed import parsed, parsed_stream
from gamekit.serving.spans import traced
from gamekit.serving.streams import is_open_stream

# grpc reports "no deadline" as a deadline centuries away; anything beyond a day is none.
_NO_DEADLINE_SECONDS = 86_400.0


Metadata = Sequence[tuple[str, str | bytes]]


class GatedCall(Protocol):
    """What a `Gate` reads of a call, and where it names the caller for the access line."""

    method: str
    metadata: Metadata
    peer: str | None
    caller: str | None


# A service's own check of a call, entered before its servicer runs and left when its behaviour returns;
# it raises a GamesError to refuse the call. Health and reflection calls skip it.
Gate = Callable[[GatedCall], AbstractContextManager[None]]


@dataclass(frozen=True)
class Route:
    """What the interceptor knows of a method, once for all its calls."""

    method: str
    service: str
    method_name: str
    request_streaming: bool
    open_stream: bool  # a health or reflection stream, under the stream caps
    gated: bool  # the service's gate applies (not health or reflection)
    traced: bool  # calls get a server span (gamekit.serving.spans)
    in_flight: Gauge  # the method's metric children, looked up once
    seconds: Histogram

    @classmethod
    def of(cls, method: str, handler: grpc.RpcMethodHandler[Any, Any]) -> Route:
        """The route of `method`, served by `handler`."""
        service, name = service_of(method), method_of(method)
        return cls(
            method=method,
            service=service,
            method_name=name,
            request_streaming=handler.request_streaming,
            open_stream=is_open_stream(method, handler),
            gated=service not in OPEN_SERVICES,
            traced=traced(service, method),
            in_flight=metrics.in_flight(service, name),
            seconds=metrics.handling_seconds(service, name),
        )

    def parsed(self, request: Any) -> Any:
        """The request (or request stream) for the servicer; MalformedRequest where it did not parse."""
        return parsed_stream(request, self.method) if self.request_streaming else parsed(request, self.method)


def request_id_of(metadata: Metadata) -> str:
    """The caller's x-request-id if it sent a sane one, else a new id."""
    for key, value in metadata:
        if key == REQUEST_ID_HEADER:
            # Accept a caller's id only if it is sane: it ends up in logs and headers.
            if isinstance(value, str) and 0 < len(value) <= 128:
                return value
            break
    return new_request_id()


class Call:
    """The state of one call as the interceptor sees it."""

    __slots__ = (
        "authenticated",
        "caller",
        "code",
        "context",
        "metadata",
        "method",
        "peer",
        "reason",
        "remaining",
        "request_id",
        "route",
        "started",
    )

    def __init__(self, route: Route, context: grpc.ServicerContext) -> None:
        self.started = time.perf_counter()
        self.route = route
        self.method = route.method
        self.context = context
        self.metadata: Metadata = context.invocation_metadata() or ()
        self.request_id = request_id_of(self.metadata)
        # Read once: authorization, the gate and the access log all need the peer.
        certificate = peer_certificate(context)
        self.authenticated = certificate is not None
        self.peer = spiffe_id_from_pem(certificate) if certificate is not None else None
        self.caller: str | None = None
        self.code: grpc.StatusCode | None = None
        self.reason: str | None = None
        remaining = context.time_remaining()
        self.remaining = None if remaining is None or remaining > _NO_DEADLINE_SECONDS else remaining

    def scope(self) -> AbstractContextManager[None]:
        """Bind the request id and deadline for code running on behalf of this call."""
        remaining = None
        if self.remaining is not None:
            remaining = max(0.0, self.remaining - (time.perf_counter() - self.started))
        return call_scope(self.request_id, remaining, self.peer)
