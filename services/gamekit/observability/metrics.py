"""Prometheus metrics every service shares, and the HTTP endpoint that serves them.

Names follow go-grpc-prometheus (`grpc_server_handled_total`, `grpc_server_handling_seconds`) so
stock Grafana dashboards and alert rules work unchanged. Latency observations carry the trace id as an
exemplar, under the label `trace_id` (exposed in the OpenMetrics format, which Prometheus asks for).
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REQUESTS = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, by method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time from receiving an RPC to sending its status.",
    ["grpc_service", "grpc_method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
IN_FLIGHT = Gauge(
    "grpc_server_in_flight",
    "RPCs being handled right now.",
    ["grpc_service", "grpc_method"],
)


# Each labelled child looked up once per method (and code) instead of on every call: labels() takes a
# lock and builds a key each time. Bounded by the methods a server registers.
@functools.cache
def in_flight(service: str, method: str) -> Gauge:
    """grpc_server_in_flight of one method."""
    return IN_FLIGHT.labels(service, method)


@functools.cache
def handling_seconds(service: str, method: str) -> Histogram:
    """grpc_server_handling_seconds of one method."""
    return HANDLING_SECONDS.labels(service, method)


@functools.cache
def handled(service: str, method: str, code: str) -> Counter:
    """grpc_server_handled_total of one method and status code."""
    return REQUESTS.labels(service, method, code)


CERTIFICATE_EXPIRY = Gauge(
    "tls_certificate_expiry_timestamp_seconds",
    "Unix time the serving certificate (the one new connections get) stops being valid.",
)


def follow_certificate(expiry: Callable[[], float]) -> None:
    """Report `expiry()`, called at each scrape, as the serving certificate's expiry."""
    CERTIFICATE_EXPIRY.set_function(expiry)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds are not worth a log line."""


@dataclass
class MetricsEndpoint:
    """A running /metrics HTTP server and the port it bound."""

    port: int
    _server: WSGIServer
    _thread: Thread

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics_server(
    port: int,
    host: str = "0.0.0.0",  # noqa: S104 - scraped from outside the pod
    registry: CollectorRegistry = prometheus_client.REGISTRY,
) -> MetricsEndpoint:
    """Serve `registry` (the process's own by default) over HTTP on a daemon thread; port 0 picks one."""
    # prometheus_client.start_http_server would do, but its loop polls for shutdown every 0.5 s;
    # building the same server here makes stopping (every test, every SIGTERM) immediate.
    server_class = _Server6 if ":" in host else _Server
    server = make_server(host, port, prometheus_client.make_wsgi_app(registry), server_class, _QuietHandler)
    thread = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="metrics", daemon=True)
    thread.start()
    return MetricsEndpoint(port=server.server_port, _server=server, _thread=thread)
