"""The server span of each call, opened by the platform interceptor.

OpenTelemetry's gRPC server instrumentation did this before, at ~155 µs of Python a call (a wrapper
object around every servicer context, a second interceptor, the metadata and the peer parsed again):
more than the rest of a cached call through the gateway. The span is the one it made: named by the full
method, kind SERVER, child of the caller's W3C trace context (whose baggage stays current for the call),
the rpc.* and net.peer.* attributes, `rpc.grpc.status_code` at the end and ERROR for the codes that are
the server's fault (as the instrumentation's `_server_status` decides). Health and the revision watch
are not traced (gamekit.observability.telemetry says why); without `configure_telemetry`, nothing is
done at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from gamekit.observability import telemetry

SERVER_FAULTS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def traced(service: str, method: str) -> bool:
    """Whether calls of `method` (a full name, of `service`) get a server span."""
    return service not in telemetry.UNTRACED_SERVICES and method not in telemetry.UNTRACED_METHODS


@contextlib.contextmanager
def server_span(method: str, service: str, name: str, context: grpc.ServicerContext) -> Iterator[None]:
    """The call's server span, current inside (nothing when telemetry is not configured)."""
    tracer = telemetry.server_tracer()
    if tracer is None:
        yield
        return
    carrier = {key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)}
    attributes: dict[str, Any] = {
        "rpc.system": "grpc",
        "rpc.service": service,
        "rpc.method": name,
        "rpc.grpc.status_code": grpc.StatusCode.OK.value[0],
    }
    if "user-agent" in carrier:
        attributes["rpc.user_agent"] = carrier["user-agent"]
    attributes.update(_peer(context.peer()))
    token = otel_context.attach(propagate.extract(carrier))
    try:
        with tracer.start_as_current_span(
            method,
            kind=SpanKind.SERVER,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ):
            yield
    finally:
        otel_context.detach(token)


def end_span(code: grpc.StatusCode) -> None:
    """Record the call's status code on its server span; ERROR if the server is at fault."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code in SERVER_FAULTS:
        span.set_status(Status(StatusCode.ERROR, f"{code}:{code.value[1]}"))


def _peer(peer: str) -> dict[str, str]:
    """net.peer.ip and net.peer.port of 'ipv4:127.0.0.1:5000' or 'ipv6:[::1]:5000'; none for others."""
    kind, _, address = peer.split(",")[0].partition(":")
    if kind not in ("ipv4", "ipv6"):
        return {}
    ip, _, port = address.rpartition(":")
    found = {"net.peer.ip": ip, "net.peer.port": port}
    if ip in ("[::1]", "127.0.0.1"):
        found["net.peer.name"] = "localhost"
    return found
