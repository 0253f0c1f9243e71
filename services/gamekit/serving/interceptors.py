"""The server interceptor every service runs: request id, deadline, admission, errors, metrics, logs.

gRPC runs `intercept_service` on its polling thread, one for the whole server, without the call's
context: it only hands out the method's wrapped handler, built once per method, and all per-call work
happens in the wrapped behaviour, on the handler's pool thread, for all four arities. Response streams
are wrapped step by step, so errors raised while iterating are mapped too. A non-blocking stream (the
health servicer's Watch) stays non-blocking: it is finished, counted and logged when the call ends,
not when its behaviour returns.

Before the servicer runs, a call is refused, in this order, if it came while the server held its limit
of calls (gamekit.serving.admission), if its peer may not call the method (the access policy), if its request
did not parse (gamekit.serving.malformed), or if it is one health or reflection stream too many
(gamekit.serving.streams). Each refusal is a status with details, counted and logged like any other.
A service's own check of each call (the gateway's API keys, scopes and limits) is a `Gate` run last,
inside this interceptor rather than as a second one: one layer of wrapping per call, and the access line
names the caller the gate found.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar, cast

import grpc
from opentelemetry import trace

from gamekit.call_context import REQUEST_ID_HEADER
from gamekit.errors import GamesError, PermissionDenied
from gamekit.observability import metrics
from gamekit.security.identity import (
    AccessPolicy,
)
from gamekit.serving.admission import HandlerPool, refusing, server_busy
from gamekit.serving.calls import Call, Gate, Route
from gamekit.serving.handlers import (
    Behavior,
    SendResponse,
    behavior_of,
    is_non_blocking,
    mark_non_blocking,
    method_handler,
)
from gamekit.serving.inflight import InFlight
from gamekit.serving.malformed import tolerant
from gamekit.serving.spans import end_span, server_span
from gamekit.serving.streams import StreamCap, peer_address
from gamekit.status import status_for

log = logging.getLogger(__name__)
access_log = logging.getLogger("gamekit.access")

T = TypeVar("T")


class ServerInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps every handler with the platform's per-call behaviour.

    `pool` is the server's HandlerPool (the calls it runs on its refusal threads are refused as
    SERVER_BUSY); `streams` caps the open health and reflection streams. Without them, neither limit.
    `gate` is the service's own check of each call (see `Gate`).
    """

    def __init__(
        self,
        policy: AccessPolicy,
        in_flight: InFlight | None = None,
        *,
        pool: HandlerPool | None = None,
        streams: StreamCap | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.policy = policy
        self.in_flight = in_flight or InFlight()
        self.pool = pool
        self.streams = streams
        self.gate = gate
        # Full method → (the handler gRPC found, ours around it); only ever written by the polling thread.
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler[Any, Any], grpc.RpcMethodHandler[Any, Any]]] = {}

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """Return the handler with every behaviour wrapped (built at a method's first call)."""
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        known = self._wrapped.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrap(Route.of(method, handler), handler)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(
        self, route: Route, handler: grpc.RpcMethodHandler[Any, Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        behavior = behavior_of(handler)
        if is_non_blocking(behavior):
            wrapped = self._non_blocking(route, behavior)
        elif handler.response_streaming:
            wrapped = self._streaming(route, behavior)
        else:
            wrapped = self._unary(route, behavior)
        return method_handler(
            wrapped,
            handler.request_streaming,
            handler.response_streaming,
            request_deserializer=tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )

    def _unary(self, route: Route, behavior: Behavior) -> Callable[[Any, grpc.ServicerContext], Any]:
        def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
            call = self._begin(route, context)
            try:
                with call.scope():
                    self._admit(call)
                    return self._guard(call, lambda: self._gated(call, behavior, route.parsed(request)))
            finally:
                self._finish(call)

        return _spanned(route, wrapped)

    def _gated(self, call: Call, behavior: Behavior, request: Any) -> Any:
        """The behaviour, inside the service's gate if it has one (for a response stream: the call that
        opens it, as the gateway, whose methods are all unary, only needs)."""
        if self.gate is None or not call.route.gated:
            return behavior(request, call.context)
        with self.gate(call):
            return behavior(request, call.context)

    def _streaming(
        self, route: Route, behavior: Callable[..., Iterator[Any]]
    ) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
        def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            call = self._begin(route, context)
            try:
                with call.scope():
                    self._admit(call)
                    responses = self._guard(
                        call, lambda: iter(self._gated(call, behavior, route.parsed(request)))
                    )
                while True:
                    # Bind per step: the servicer's generator body runs inside next(), on this thread.
                    with call.scope():
                        response = self._guard(call, lambda: next(responses, _END))
                    if response is _END:
                        return
                    yield response
            finally:
                self._finish(call)

        if not route.traced:
            return wrapped

        def spanned(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            with server_span(route.method, route.service, route.method_name, context):
                yield from wrapped(request, context)

        return spanned

    def _non_blocking(self, route: Route, behavior: Behavior) -> Behavior:
        def wrapped(request: Any, context: grpc.ServicerContext, send_response: SendResponse) -> None:
            call = self._begin(route, context)
            if not context.add_callback(lambda: self._finish(call)):
                self._finish(call)  # the caller left before the call started
                return
            # The stream outlives this function, and its status carries what metadata is set by now.
            context.set_trailing_metadata(((REQUEST_ID_HEADER, call.request_id),))

            def send(response: Any) -> None:
                if response is None:
                    call.code = grpc.StatusCode.OK  # the servicer ended the stream
                send_response(response)

            with call.scope():
                self._admit(call)
                self._guard(call, lambda: behavior(route.parsed(request), context, send))

        return mark_non_blocking(wrapped, behavior)

    def _begin(self, route: Route, context: grpc.ServicerContext) -> Call:
        call = Call(route, context)
        self.in_flight.enter()
        route.in_flight.inc()
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("rpc.request_id", call.request_id)
        return call

    def _admit(self, call: Call) -> None:
        """Refuse the call if the server is full, the peer may not call, or it is a stream too many."""
        if self.pool is not None and refusing():
            self._abort(call, server_busy(self.pool.limit))
        if not self.policy.allows(call.method, call.peer, authenticated=call.authenticated):
            self._abort(
                call, PermissionDenied(f"{call.peer or 'an unidentified peer'} may not call {call.method}")
            )
        streams = self.streams
        if call.route.open_stream and streams is not None:
            peer = call.peer or peer_address(call.context)
            self._guard(call, lambda: streams.hold(peer, call.context))

    def _guard(self, call: Call, step: Callable[[], T]) -> T:
        try:
            return step()
        except GamesError as error:
            self._abort(call, error)
        except Exception as error:
            if _aborted_by_handler(call.context, error):
                call.code = _context_code(call.context)
                raise
            if type(error) is grpc.RpcError and not call.context.is_active():
                # The caller went away (cancelled, or its deadline passed) while the handler read its
                # requests: the request iterator raised this bare RpcError, which gRPC recorded and
                # ends quietly; nothing failed here. (A failed outgoing call raises a subclass.)
                raise
            log.exception("unhandled error in %s", call.method, extra={"fields": {"method": call.method}})
            trace.get_current_span().record_exception(error)
            self._abort(call, error)

    def _abort(self, call: Call, error: Exception) -> NoReturn:
        status = status_for(error, call.request_id)
        call.code = status.code
        call.reason = error.reason if isinstance(error, GamesError) else "INTERNAL"
        call.context.abort_with_status(status)

    def _finish(self, call: Call) -> None:
        elapsed = time.perf_counter() - call.started
        code = call.code or _context_code(call.context) or grpc.StatusCode.OK
        if code is grpc.StatusCode.OK and call.code is None:
            if not call.context.is_active():
                # Handler done but the client is gone: it cancelled or its deadline passed.
                expired = call.remaining is not None and elapsed >= call.remaining
                code = grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
            else:
                trailing = tuple(call.context.trailing_metadata() or ())
                call.context.set_trailing_metadata((*trailing, (REQUEST_ID_HEADER, call.request_id)))
        code_name = code.name
        route = call.route
        metrics.handled(route.service, route.method_name, code_name).inc()
        span_context = trace.get_current_span().get_span_context()
        exemplar = (
            {"trace_id": trace.format_trace_id(span_context.trace_id)} if span_context.is_valid else None
        )
        route.seconds.observe(elapsed, exemplar=exemplar)
        end_span(code)
        route.in_flight.dec()
        self.in_flight.leave()
        if not access_log.isEnabledFor(logging.INFO):
            return
        fields = {
            "method": call.method,
            "code": code_name,
            "duration_ms": round(elapsed * 1000, 3),
            "peer": call.peer,
            # Outside the call's scope by now: the formatter takes the request id from here.
            "request_id": call.request_id,
        }
        if call.caller:
            fields["key_id"] = call.caller
        if call.reason:
            fields["reason"] = call.reason
        access_log.info("%s %s %.1fms", call.method, code_name, elapsed * 1000, extra={"fields": fields})


def _spanned(route: Route, wrapped: Callable[[Any, grpc.ServicerContext], Any]) -> Callable[..., Any]:
    """`wrapped` inside the call's server span, if the method is traced."""
    if not route.traced:
        return wrapped

    def spanned(request: Any, context: grpc.ServicerContext) -> Any:
        with server_span(route.method, route.service, route.method_name, context):
            return wrapped(request, context)

    return spanned


class _End:
    pass


_END = _End()


def _context_code(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    # ServicerContext.code() exists since grpcio 1.38 but not in the type stubs.
    return cast(grpc.StatusCode | None, getattr(context, "code", lambda: None)())


def _aborted_by_handler(context: grpc.ServicerContext, error: Exception) -> bool:
    """Whether `error` is the bare Exception that context.abort() raises after setting a status."""
    code = _context_code(context)
    return type(error) is Exception and not error.args and code not in (None, grpc.StatusCode.OK)
