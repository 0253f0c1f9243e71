"""Telemetry in a fresh process (tracer providers and instrumentation are process-global).

`propagation <pki dir>`: one call through gamekit's client and server inside a span; prints the spans
and log lines as JSON. `unreachable`: configure with an OTLP endpoint nobody listens on, make a span,
shut down; prints "ok".
"""

from __future__ import annotations

import io
import json
import sys
import urllib.request
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gamectl.certs import ensure_dev_pki
from gamekit.clients.channels import secure_channel
from gamekit.observability import telemetry
from gamekit.observability.logs import configure_logging, flush_logs
from gamekit.serving.host import ServiceHost
from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from tests.integration.gamekit.conftest import POLICY, settings_for
from tests.integration.gamekit.servicers import SERVICE, FakeCatalog, register


def propagation(pki_dir: Path) -> dict[str, object]:
    exporter = InMemorySpanExporter()
    telemetry.configure_telemetry("fake", span_exporter=exporter)
    logs = io.StringIO()
    configure_logging("fake", stream=logs)
    pki = ensure_dev_pki(pki_dir)
    host = ServiceHost(settings_for(pki), [(SERVICE, register(FakeCatalog()))], POLICY).start()
    gateway = pki.certs["gateway"]
    channel = secure_channel(
        f"127.0.0.1:{host.port}", ca_file=pki.ca_file, cert_file=gateway.cert_file, key_file=gateway.key_file
    )
    with trace.get_tracer("test").start_as_current_span("caller") as span:
        caller_trace = trace.format_trace_id(span.get_span_context().trace_id)
        catalog_pb2_grpc.CatalogServiceStub(channel).GetGame(
            catalog_pb2.GetGameRequest(name="games/1"), timeout=5
        )
    channel.close()
    request = urllib.request.Request(
        f"http://127.0.0.1:{host.metrics_port}/metrics", headers={"Accept": "application/openmetrics-text"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        exemplars = [line for line in response.read().decode().splitlines() if "trace_id=" in line]
    host.stop(0)
    telemetry.shutdown()
    flush_logs()
    spans = [
        {"name": s.name, "kind": s.kind.name, "trace_id": trace.format_trace_id(s.context.trace_id)}
        for s in exporter.get_finished_spans()
    ]
    return {
        "caller_trace": caller_trace,
        "spans": spans,
        "logs": [json.loads(line) for line in logs.getvalue().splitlines()],
        "exemplars": exemplars,
    }


def unreachable() -> str:
    telemetry.configure_telemetry("fake")
    with trace.get_tracer("test").start_as_current_span("lonely"):
        pass
    telemetry.shutdown(timeout_millis=2000)
    return "ok"


if __name__ == "__main__":
    result = propagation(Path(sys.argv[2])) if sys.argv[1] == "propagation" else unreachable()
    print(json.dumps(result))
