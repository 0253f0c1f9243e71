"""The pod's one metrics port over its workers' (gamekit.observability.metrics_fanin), read over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from gamekit.observability.metrics import start_metrics_server
from gamekit.observability.metrics_fanin import WorkerMetrics


class Garbled(BaseHTTPRequestHandler):
    """A worker dying mid-answer: a 200 with text no parser accepts."""

    def do_GET(self) -> None:
        body = b'grpc_server_handled_total{grpc_code="OK" 1\n'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def garbled_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Garbled)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def worker_registry(calls: int) -> CollectorRegistry:
    registry = CollectorRegistry()
    Counter("calls", "Calls.", ["code"], registry=registry).labels("OK").inc(calls)
    Histogram("latency_seconds", "Latency.", registry=registry).observe(0.2, {"trace_id": "ab" * 16})
    return registry


def test_every_worker_is_a_series_of_its_own_with_its_exemplars() -> None:
    endpoints = [start_metrics_server(0, "127.0.0.1", registry=worker_registry(n)) for n in (3, 5)]
    try:
        fanin = WorkerMetrics(lambda: {i: e.port for i, e in enumerate(endpoints)})
        families = {f.name: f for f in fanin.collect()}
    finally:
        for endpoint in endpoints:
            endpoint.close()
    calls = {s.labels["worker"]: s.value for s in families["calls"].samples if s.name == "calls_total"}
    assert calls == {"0": 3.0, "1": 5.0}
    exemplars = [s.exemplar for s in families["latency_seconds"].samples if s.exemplar is not None]
    assert [e.labels["trace_id"] for e in exemplars] == ["ab" * 16, "ab" * 16]


def test_a_worker_that_answers_garbage_or_not_at_all_leaves_the_others_served(garbled_port: int) -> None:
    good = start_metrics_server(0, "127.0.0.1", registry=worker_registry(7))
    try:
        # Worker 2's port is closed: a worker being restarted.
        closed = start_metrics_server(0, "127.0.0.1", registry=worker_registry(1))
        closed.close()
        fanin = WorkerMetrics(lambda: {0: good.port, 1: garbled_port, 2: closed.port})
        families = {f.name: f for f in fanin.collect()}
    finally:
        good.close()
    assert {s.labels["worker"] for s in families["calls"].samples} == {"0"}
