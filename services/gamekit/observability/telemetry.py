"""OpenTelemetry tracing for a service: SDK, OTLP exporter, W3C propagation, gRPC and SQL spans.

Configured from the standard OTEL_* variables, which the SDK and exporter read themselves. Without
an endpoint no exporter is created (spans still get ids, so logs and exemplars still carry them),
and nothing here ever blocks start-up or downloads anything.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

# Probes hit health every few seconds; a trace each would drown the real ones.
UNTRACED_SERVICES = ("grpc.health.v1.Health",)
# Streams that last as long as the process: a span that never ends tells nothing, and the client
# instrumentation would hand the caller a bare generator for the call, without cancel() or code(),
# which the gateway's revision follower needs.
UNTRACED_METHODS = ("/games.catalog.v1.CatalogService/WatchRevision",)

_provider: TracerProvider | None = None
_server_tracer: trace.Tracer | None = None
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def _exporter_configured(env: Mapping[str, str]) -> bool:
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure_telemetry(
    service_name: str,
    *,
    span_exporter: SpanExporter | None = None,
    environ: Mapping[str, str] | None = None,
) -> TracerProvider | None:
    """Install the tracer provider, propagators and gRPC client instrumentation; None if OTEL_SDK_DISABLED.

    Server spans are made by the platform interceptor (gamekit.serving.spans), not by OpenTelemetry's
    gRPC server instrumentation, which cost more per call than the rest of a cached gateway call.
    """
    global _provider, _server_tracer
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if _provider is not None:
        return _provider
    # OTEL_SERVICE_NAME, when set, names the service; Resource.create reads it with the other OTEL_* ones.
    attributes = {} if env.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    provider = TracerProvider(resource=Resource.create(attributes))
    if span_exporter is None and _exporter_configured(env):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        span_exporter = OTLPSpanExporter()
    if span_exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    propagate.set_global_textmap(
        CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
    )

    from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient, filters

    untraced = filters.any_of(
        *(filters.service_name(name) for name in UNTRACED_SERVICES),
        *(filters.full_method_name(name) for name in UNTRACED_METHODS),
    )
    traced = filters.negate(untraced)
    GrpcInstrumentorClient(filter_=traced).instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    # The scope name predates gamekit.serving; kept, so trace queries by scope keep working.
    _server_tracer = provider.get_tracer("gamekit.server")
    _provider = provider
    return provider


def server_tracer() -> trace.Tracer | None:
    """The tracer of server spans while telemetry is configured, else None."""
    return _server_tracer


def instrument_engine(engine: Engine, *, tracer_provider: trace.TracerProvider | None = None) -> None:
    """Trace every statement run through a SQLAlchemy engine, as children of the current span."""
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    instrumentor = SQLAlchemyInstrumentor()
    _engines.add(engine)
    # The instrumentor is a singleton that takes engines only on instrument(): re-arm it with all of them.
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    provider = tracer_provider or _provider or trace.get_tracer_provider()
    instrumentor.instrument(engines=list(_engines), tracer_provider=provider)


def shutdown(timeout_millis: int = 5000) -> None:
    """Flush pending spans (bounded by `timeout_millis`) and undo the instrumentation."""
    global _provider, _server_tracer
    provider, _provider, _server_tracer = _provider, None, None
    if provider is None:
        return
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient

    GrpcInstrumentorClient().uninstrument()  # type: ignore[no-untyped-call]
    if not provider.force_flush(timeout_millis):
        log.warning("telemetry flush timed out; some spans were dropped")
    provider.shutdown()
