"""grpcio method handlers of any arity: taking one apart, and building one around a new behaviour.

A behaviour may be *non-blocking* (grpcio's experimental protocol, which the health servicer's `Watch`
uses): marked by an `experimental_non_blocking` attribute, it is called with a third argument, a
callback that sends each response (None ends the stream), and returns at once, so an open stream holds
no handler thread. A wrapper that drops the mark turns it back into a blocking stream that holds a
thread for as long as it is open; `wrap_behavior` refuses to do that silently.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc

Behavior = Callable[..., Any]
Deserializer = Callable[[bytes], Any]
Serializer = Callable[[Any], bytes]
SendResponse = Callable[[Any], None]


def behavior_of(handler: grpc.RpcMethodHandler[Any, Any]) -> Behavior:
    """The behaviour of `handler`, whichever of the four arities it is."""
    behavior = {
        (True, True): handler.stream_stream,
        (True, False): handler.stream_unary,
        (False, True): handler.unary_stream,
        (False, False): handler.unary_unary,
    }[(handler.request_streaming, handler.response_streaming)]
    assert behavior is not None, "a method handler without the behaviour its arity names"
    return behavior


def is_non_blocking(behavior: Behavior) -> bool:
    """Whether grpcio calls `behavior` with a send-response callback instead of iterating its result."""
    return bool(getattr(behavior, "experimental_non_blocking", False))


def mark_non_blocking(behavior: Behavior, like: Behavior | None = None) -> Behavior:
    """`behavior`, marked non-blocking (and on `like`'s thread pool, if it names one), as grpcio reads it."""
    behavior.experimental_non_blocking = True  # type: ignore[attr-defined]
    pool: futures.ThreadPoolExecutor | None = getattr(like, "experimental_thread_pool", None)
    behavior.experimental_thread_pool = pool  # type: ignore[attr-defined]
    return behavior


def wrap_behavior(
    handler: grpc.RpcMethodHandler[Any, Any], wrap: Callable[[Behavior], Behavior]
) -> grpc.RpcMethodHandler[Any, Any]:
    """`handler` with its behaviour replaced by `wrap(behaviour)`, whichever of the four arities it is."""
    behavior = behavior_of(handler)
    wrapped = wrap(behavior)
    if is_non_blocking(behavior) and not is_non_blocking(wrapped):
        raise TypeError(f"wrapping {behavior!r} would make a non-blocking stream hold a handler thread")
    return method_handler(
        wrapped,
        handler.request_streaming,
        handler.response_streaming,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def method_handler(
    behavior: Behavior,
    request_streaming: bool,
    response_streaming: bool,
    *,
    request_deserializer: Deserializer | None = None,
    response_serializer: Serializer | None = None,
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
