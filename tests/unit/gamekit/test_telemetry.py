"""SQL statements become spans once an engine is instrumented."""

from __future__ import annotations

import pytest
import sqlalchemy
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gamekit.observability.telemetry import instrument_engine


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    SQLAlchemyInstrumentor().uninstrument()
    provider.shutdown()


def test_instrumented_engines_trace_their_statements(spans):
    provider, exporter = spans
    engines = [sqlalchemy.create_engine("sqlite://") for _ in range(2)]
    for engine in engines:
        instrument_engine(engine, tracer_provider=provider)
    for engine in engines:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
        engine.dispose()
    statements = [span for span in exporter.get_finished_spans() if span.name.startswith("SELECT")]
    assert len(statements) == 2
