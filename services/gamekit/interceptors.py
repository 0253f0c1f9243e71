"""The server interceptor every service runs: request id, deadline, authorization, errors, metrics, logs.

gRPC runs `intercept_service` on its polling thread without the call's context, so all per-call work
happens in the wrapped behaviour, on the handler's pool thread, for all four arities. Response streams
are wrapped step by step, so errors raised while iterating are mapped too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, NoReturn, TypeVar, cast

import grpc
from opentelemetry import trace

from gamekit import metrics
from gamekit.context import REQUEST_ID_HEADER, call_scope, new_request_id
from gamekit.errors import GamesError, PermissionDenied
from gamekit.identity import AccessPolicy, method_of, peer_certificate, service_of, spiffe_id_from_pem
from gamekit.status import status_for

log = logging.getLogger(__name__)
access_log = logging.getLogger("gamekit.access")

T = TypeVar("T")
Behavior = Callable[..., Any]
# grpc reports "no deadline" as a deadline centuries away; anything beyond a day is none.
_NO_DEADLINE_SECONDS = 86_400.0


class InFlight:
    """Counts calls being handled, so a stopping server can tell how many it cut off."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    @property
    def count(self) -> int:
        """Calls being handled now."""
        return self._count

    def enter(self) -> None:
        """One more call."""
        with self._idle:
            self._count += 1

    def leave(self) -> None:
        """One call fewer."""
        with self._idle:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no call is in flight or the timeout passes; True when idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)


class _Call:
    """The state of one call as the interceptor sees it."""

    def __init__(self, method: str, request_id: str, context: grpc.ServicerContext) -> None:
        self.method = method
        self.service = service_of(method)
        self.method_name = method_of(method)
        self.request_id = request_id
        self.context = context
        # Read once: authorization and the access log both need the peer.
        certificate = peer_certificate(context)
        self.authenticated = certificate is not None
        self.peer = spiffe_id_from_pem(certificate) if certificate is not None else None
        self.code: grpc.StatusCode | None = None
        self.reason: str | None = None
        self.started = time.perf_counter()
        remaining = context.time_remaining()
        self.remaining = None if remaining is None or remaining > _NO_DEADLINE_SECONDS else remaining

    def scope(self) -> AbstractContextManager[None]:
        """Bind the request id and deadline for code running on behalf of this call."""
        remaining = None
        if self.remaining is not None:
            remaining = max(0.0, self.remaining - (time.perf_counter() - self.started))
        return call_scope(self.request_id, remaining, self.peer)


class ServerInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Wraps every handler with the platform's per-call behaviour."""

    def __init__(self, policy: AccessPolicy, in_flight: InFlight | None = None) -> None:
        self.policy = policy
        self.in_flight = in_flight or InFlight()

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """Return the handler with every behaviour wrapped."""
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        given = dict(handler_call_details.invocation_metadata or ()).get(REQUEST_ID_HEADER)
        # Accept a caller's id only if it is sane: it ends up in logs and headers.
        request_id = str(given) if isinstance(given, str) and 0 < len(given) <= 128 else new_request_id()
        wrap = self._streaming if handler.response_streaming else self._unary
        return wrap_behavior(handler, lambda behavior: wrap(method, request_id, behavior))

    def _unary(
        self, method: str, request_id: str, behavior: Behavior
    ) -> Callable[[Any, grpc.ServicerContext], Any]:
        def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
            call = self._begin(method, request_id, context)
            try:
                with call.scope():
                    self._authorize(call)
                    return self._guard(call, lambda: behavior(request, context))
            finally:
                self._finish(call)

        return wrapped

    def _streaming(
        self, method: str, request_id: str, behavior: Callable[..., Iterator[Any]]
    ) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
        def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            call = self._begin(method, request_id, context)
            try:
                with call.scope():
                    self._authorize(call)
                    responses = self._guard(call, lambda: iter(behavior(request, context)))
                while True:
                    # Bind per step: the servicer's generator body runs inside next(), on this thread.
                    with call.scope():
                        response = self._guard(call, lambda: next(responses, _END))
                    if response is _END:
                        return
                    yield response
            finally:
                self._finish(call)

        return wrapped

    def _begin(self, method: str, request_id: str, context: grpc.ServicerContext) -> _Call:
        call = _Call(method, request_id, context)
        self.in_flight.enter()
        metrics.in_flight(call.service, call.method_name).inc()
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute("rpc.request_id", request_id)
        return call

    def _authorize(self, call: _Call) -> None:
        if not self.policy.allows(call.method, call.peer, authenticated=call.authenticated):
            self._abort(
                call, PermissionDenied(f"{call.peer or 'an unidentified peer'} may not call {call.method}")
            )

    def _guard(self, call: _Call, step: Callable[[], T]) -> T:
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
            self._abort(call, error)

    def _abort(self, call: _Call, error: Exception) -> NoReturn:
        status = status_for(error, call.request_id)
        call.code = status.code
        call.reason = error.reason if isinstance(error, GamesError) else "INTERNAL"
        call.context.abort_with_status(status)

    def _finish(self, call: _Call) -> None:
        elapsed = time.perf_counter() - call.started
        code = call.code or _context_code(call.context) or grpc.StatusCode.OK
        if code is grpc.StatusCode.OK:
            if not call.context.is_active():
                # Handler done but the client is gone: it cancelled or its deadline passed.
                expired = call.remaining is not None and elapsed >= call.remaining
                code = grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
            else:
                trailing = tuple(call.context.trailing_metadata() or ())
                call.context.set_trailing_metadata((*trailing, (REQUEST_ID_HEADER, call.request_id)))
        code_name = code.name
        metrics.handled(call.service, call.method_name, code_name).inc()
        span_context = trace.get_current_span().get_span_context()
        exemplar = (
            {"trace_id": trace.format_trace_id(span_context.trace_id)} if span_context.is_valid else None
        )
        metrics.handling_seconds(call.service, call.method_name).observe(elapsed, exemplar=exemplar)
        metrics.in_flight(call.service, call.method_name).dec()
        self.in_flight.leave()
        fields = {
            "method": call.method,
            "code": code_name,
            "duration_ms": round(elapsed * 1000, 3),
            "peer": call.peer,
        }
        if call.reason:
            fields["reason"] = call.reason
        with call_scope(call.request_id):
            access_log.info("%s %s %.1fms", call.method, code_name, elapsed * 1000, extra={"fields": fields})


def wrap_behavior(
    handler: grpc.RpcMethodHandler[Any, Any], wrap: Callable[[Behavior], Behavior]
) -> grpc.RpcMethodHandler[Any, Any]:
    """`handler` with its behaviour replaced by `wrap(behaviour)`, whichever of the four arities it is."""
    streaming = (handler.request_streaming, handler.response_streaming)
    behavior = {
        (True, True): handler.stream_stream,
        (True, False): handler.stream_unary,
        (False, True): handler.unary_stream,
        (False, False): handler.unary_unary,
    }[streaming]
    assert behavior is not None, "a method handler without the behaviour its arity names"
    return method_handler(
        wrap(behavior),
        *streaming,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def method_handler(
    behavior: Behavior,
    request_streaming: bool,
    response_streaming: bool,
    *,
    request_deserializer: Callable[[bytes], Any] | None = None,
    response_serializer: Callable[[Any], bytes] | None = None,
) -> grpc.RpcMethodHandler[Any, Any]:
    """A method handler of the arity the two flags name (None for a (de)serializer: bytes as they are)."""
    make = {
        (True, True): grpc.stream_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (False, False): grpc.unary_unary_rpc_method_handler,
    }[(request_streaming, response_streaming)]
    handler: grpc.RpcMethodHandler[Any, Any] = make(behavior, request_deserializer, response_serializer)
    return handler


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
