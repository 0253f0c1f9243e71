"""The services callers see, built from the surface table: each method forwards to its backend.

Answers pass through as the backend's bytes: the gateway never decodes a response to encode it again
(32 µs for a 38-game SearchGames answer), and the cache keeps those bytes. Requests are decoded,
because the page-size check and the cache key read them. The internal methods are
registered with their own arity so that a caller gets UNIMPLEMENTED after authentication, like any
other refusal, not gRPC's bare "method not found".
"""

from __future__ import annotations

from typing import Any, NoReturn

import grpc
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from gamekit.serving.handlers import method_handler
from gamekit.serving.options import ServiceBinding
from gateway.surface import METHODS, Kind
from gateway.transport.forwarding import Forwarder


def proxy_binding(service: ServiceDescriptor, channel: grpc.Channel, forwarder: Forwarder) -> ServiceBinding:
    """`service` as callers see it, every method forwarded over `channel` to the backend serving it."""
    handlers = {method.name: _handler(method, channel, forwarder) for method in service.methods}

    def register(server: grpc.Server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.full_name, handlers),))
        # As the generated add_*_to_server do since grpcio 1.62 (the stubs predate it): the server then
        # matches these methods without a lookup through the generic handlers.
        server.add_registered_method_handlers(service.full_name, handlers)  # type: ignore[attr-defined]

    return ServiceBinding(service.full_name, register)


def _handler(
    method: MethodDescriptor, channel: grpc.Channel, forwarder: Forwarder
) -> grpc.RpcMethodHandler[Any, Any]:
    full_name = f"/{method.containing_service.full_name}/{method.name}"
    request_type: type[Message] = GetMessageClass(method.input_type)
    if METHODS[full_name].kind is Kind.INTERNAL:
        return _refusal(method)
    # No response deserializer: the backend's answer arrives as bytes and is sent on as they are.
    backend = channel.unary_unary(
        full_name, request_serializer=request_type.SerializeToString, response_deserializer=None
    )

    def forward(request: Message, context: grpc.ServicerContext) -> bytes:
        return forwarder.unary(full_name, backend, request, context)

    return grpc.unary_unary_rpc_method_handler(forward, request_deserializer=request_type.FromString)


def _refusal(method: MethodDescriptor) -> grpc.RpcMethodHandler[Any, Any]:
    def refuse(_request: Any, context: grpc.ServicerContext) -> NoReturn:
        detail = f"{method.name} is internal to the platform; not served here"
        context.abort(grpc.StatusCode.UNIMPLEMENTED, detail)

    return method_handler(refuse, method.client_streaming, method.server_streaming)
