"""One forwarded call: limits, the response cache, the backend call under the caller's deadline, hygiene.

The servicers hand every call here; answers stay the backend's serialized bytes throughout. The backend
channels come from gamekit.clients.channels, whose interceptor shortens each call to the caller's remaining
deadline and forwards its x-request-id; OpenTelemetry's client instrumentation adds the trace context.
`timeout` (`action_timeout` for the actions: AcceptFile returns when its import ends) only bounds calls
whose caller set no deadline.

A backend restart (a rollout, a crash) leaves nothing listening for a second or two, more than the
channel's retry policy covers: gRPC caps a policy at five attempts, at most 1.5 s of backoff with
gamekit's settings (without what follows, the catalog-restart e2e test sees UNAVAILABLE after ~1.4 s).
Nor can the service config carry the wait: its `waitForReady` waits out the whole deadline, so a backend
that is really down would cost the caller its deadline and a DEADLINE_EXCEEDED instead of an
UNAVAILABLE. So an idempotent call that found its backend unreachable (or was cancelled by a backend
beginning to shut down, before its handler ran) goes once more with
wait_for_ready, waiting for the channel to connect again for up to RECONNECT_WAIT_SECONDS (and never
past the caller's deadline); if it does not, the caller gets the UNAVAILABLE, as it would have at once.
"""

from __future__ import annotations

from typing import TypeAlias

import grpc
from google.protobuf.message import Message

from gamekit.call_context import current_request_id
from gamekit.errors import InvalidArgument
from gamekit.status import status_code
from gateway.cache.responses import ResponseCache
from gateway.surface import METHODS, Kind
from gateway.transport.hygiene import backend_unreachable, clean_status

# A string: grpc's runtime class is not generic; only its type stubs are.
Backend: TypeAlias = "grpc.UnaryUnaryMultiCallable[Message, bytes]"
RECONNECT_WAIT_SECONDS = 5.0
# Answers shorter than this go uncompressed even to callers that accept gzip: gzip would save a few
# hundred bytes at most, and each message costs zlib a fixed set-up of state (~50 µs here).
COMPRESS_MIN_BYTES = 1024


class Forwarder:
    """Forwards unary calls to a backend through the cache, within the caller's limits."""

    def __init__(
        self, *, cache: ResponseCache, max_page_size: int, timeout: float, action_timeout: float
    ) -> None:
        self.cache = cache
        self.max_page_size = max_page_size
        self.timeout = timeout
        self.action_timeout = action_timeout

    def unary(
        self,
        method: str,
        backend: Backend,
        request: Message,
        context: grpc.ServicerContext,
    ) -> bytes:
        """Answer `request` for the full method name `method` from the cache or from `backend`."""
        kind = METHODS[method].kind
        self._check_page_size(request)
        ticket = None
        if kind is Kind.READ:
            # The backend reads what the cache key holds: a field unknown here (a newer client, a
            # padded request) must not change an answer stored under a key that leaves it out.
            request.DiscardUnknownFields()
            cached, ticket = self.cache.lookup(method, request)
            if cached is not None:
                return _sent(cached, context)
        try:
            response = self._call(kind, backend, request)
        except grpc.RpcError as error:
            context.abort_with_status(clean_status(error, current_request_id()))
        finally:
            # Even a failed write may have committed (its answer lost on the way back): drop it all.
            if kind.changes_catalog:
                self.cache.invalidate()
        if ticket is not None:
            self.cache.store(ticket, response)
        return _sent(response, context)

    def _call(self, kind: Kind, backend: Backend, request: Message) -> bytes:
        timeout = self.action_timeout if kind is Kind.ACTION else self.timeout
        try:
            return backend(request, timeout=timeout)
        except grpc.RpcError as error:
            if not kind.idempotent or not backend_unreachable(error):
                raise
            unreachable = error
        try:
            return backend(request, timeout=min(timeout, RECONNECT_WAIT_SECONDS), wait_for_ready=True)
        except grpc.RpcError as error:
            if status_code(error) is grpc.StatusCode.DEADLINE_EXCEEDED:
                raise unreachable from None  # still unreachable when the wait ended
            raise

    def _check_page_size(self, request: Message) -> None:
        if "page_size" not in request.DESCRIPTOR.fields_by_name:
            return
        page_size = int(getattr(request, "page_size", 0))
        if page_size > self.max_page_size:
            raise InvalidArgument.field("page_size", f"must be at most {self.max_page_size}")


def _sent(response: bytes, context: grpc.ServicerContext) -> bytes:
    """`response`, left uncompressed if it is short (COMPRESS_MIN_BYTES)."""
    if len(response) < COMPRESS_MIN_BYTES:
        # Not set_compression(NoCompression): it does not override the server's default level.
        context.disable_next_message_compression()
    return response
