"""Server bootstrap, written once: mTLS business port, plaintext health port, metrics, graceful stop.

`ServiceHost` runs in-process (tests start and stop it); `serve` runs it as a process: it blocks until
SIGTERM or SIGINT, then NOT_SERVING, drain within the grace period, shutdown hooks, flush telemetry
and logs.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from types import FrameType, TracebackType

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from gamekit.observability import telemetry
from gamekit.observability.logs import flush_logs
from gamekit.observability.metrics import MetricsEndpoint, follow_certificate, start_metrics_server
from gamekit.security.identity import AccessPolicy
from gamekit.security.tls import ClientAuth, ReloadingTls, TlsFiles, server_credentials
from gamekit.serving.admission import HandlerPool
from gamekit.serving.health import HealthReporter, Readiness, always_ready
from gamekit.serving.inflight import InFlight
from gamekit.serving.interceptors import ServerInterceptor
from gamekit.serving.options import DEFAULT_OPTIONS, HostOptions, Register, ServiceBinding
from gamekit.serving.streams import ProbeStreamCap, StreamCap
from gamekit.settings import ServiceSettings

log = logging.getLogger(__name__)


def _server_options(max_receive: int, max_send: int, *, reuse_port: bool) -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", max_receive),
        ("grpc.max_send_message_length", max_send),
        # Two servers on one port would split traffic silently; fail to bind instead, unless they are
        # the processes of one pod sharing it on purpose (gamekit.serving.workers).
        ("grpc.so_reuseport", int(reuse_port)),
        # Find dead peers within ~1.5 min, and accept client pings down to every 30 s.
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.http2.min_ping_interval_without_data_ms", 30_000),
        ("grpc.http2.max_pings_without_data", 0),
        # Recycle connections so clients spread over new replicas after an HPA scale-up.
        ("grpc.max_connection_age_ms", 300_000),
        ("grpc.max_connection_age_grace_ms", 30_000),
    ]


class ServiceHost:
    """One service process's gRPC servers, health, metrics and stop sequence, as `options` shape them.

    The settings' limits apply: `max_concurrent_rpcs` on the business port (gamekit.serving.admission), the
    health and reflection stream caps on each port, counted apart (gamekit.serving.streams).
    """

    def __init__(
        self,
        settings: ServiceSettings,
        bindings: Sequence[ServiceBinding | tuple[str, Register]],
        policy: AccessPolicy,
        readiness: Readiness = always_ready,
        options: HostOptions = DEFAULT_OPTIONS,
    ) -> None:
        self.settings = settings
        self.bindings = [b if isinstance(b, ServiceBinding) else ServiceBinding(*b) for b in bindings]
        pool = descriptor_pool.Default()
        for binding in self.bindings:
            pool.FindServiceByName(binding.name)  # KeyError now beats a reflection hole later
        self.policy = policy
        self.in_flight = InFlight()
        self.health = HealthReporter(
            [b.name for b in self.bindings], readiness, interval=options.readiness_interval
        )
        self._shutdown_hooks = list(options.shutdown_hooks)
        self._drain_hooks = list(options.drain_hooks)
        self._options = _server_options(
            options.max_receive_message_bytes, options.max_send_message_bytes, reuse_port=options.reuse_port
        )
        # A compression *level* is resolved per call against the caller's grpc-accept-encoding (LOW:
        # gzip, else deflate, else none); a fixed algorithm would be sent even to callers without it.
        self._business_options = self._options + (
            [("grpc.default_compression_level", 1)] if options.compress_responses else []
        )
        self._pool = HandlerPool(options.max_workers, limit=settings.max_concurrent_rpcs)
        self._client_auth: ClientAuth = options.client_auth
        self._reflection = options.reflection
        self._metrics_host = options.metrics_host
        # One cap per port: the probe port's peers are kubelets and in-cluster tooling, not callers.
        self._streams = self._stream_cap()
        self._probe_streams = self._stream_cap()
        platform = ServerInterceptor(
            policy, self.in_flight, pool=self._pool, streams=self._streams, gate=options.gate
        )
        self._interceptors = [platform, *options.interceptors]
        self._server: grpc.Server | None = None
        self._health_server: grpc.Server | None = None
        self._metrics: MetricsEndpoint | None = None
        self._ports: dict[str, int] = {}
        self._stop_lock = threading.Lock()
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        """The bound mTLS business port."""
        return self._ports["port"]

    @property
    def health_port(self) -> int:
        """The bound plaintext health port."""
        return self._ports["health_port"]

    @property
    def metrics_port(self) -> int:
        """The bound Prometheus port."""
        return self._ports["metrics_port"]

    def start(self) -> ServiceHost:
        """Bind every port and start serving; returns self."""
        host = self.settings.host
        server = grpc.server(
            self._pool,
            interceptors=self._interceptors,
            options=self._business_options,
            maximum_concurrent_rpcs=self._pool.grpc_limit,
        )
        for binding in self.bindings:
            binding.register(server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health.secure, server)
        if self._reflection:
            names = [b.name for b in self.bindings] + [health.SERVICE_NAME, reflection.SERVICE_NAME]
            reflection.enable_server_reflection(names, server)
        files = TlsFiles(self.settings.tls_ca_file, self.settings.tls_cert_file, self.settings.tls_key_file)
        tls = ReloadingTls(files)
        follow_certificate(tls.expiry_timestamp)
        self._ports["port"] = server.add_secure_port(
            f"{host}:{self.settings.port}", server_credentials(tls, client_auth=self._client_auth)
        )

        # Only the stream cap: probes need neither identity, nor metrics, nor an access log line.
        probe = grpc.server(
            futures.ThreadPoolExecutor(2, thread_name_prefix="grpc-health"),
            interceptors=[ProbeStreamCap(self._probe_streams)],
            options=self._options,
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health.plaintext, probe)
        self._ports["health_port"] = probe.add_insecure_port(f"{host}:{self.settings.health_port}")

        # Metrics first: once health says SERVING, everything the process offers must answer.
        self._metrics = start_metrics_server(self.settings.metrics_port, self._metrics_host or host)
        self._ports["metrics_port"] = self._metrics.port
        self.health.start()
        probe.start()
        server.start()
        self._server, self._health_server = server, probe
        log.info("serving", extra={"fields": {**self._ports, "services": [b.name for b in self.bindings]}})
        return self

    def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING, refuse new calls, drain in-flight ones up to `grace` s, run hooks, release ports."""
        if not self._stop_lock.acquire(blocking=False):
            self._stopped.wait()  # someone else is stopping; return once they are done
            return
        try:
            if self._stopped.is_set():
                return
            grace = self.settings.grace_period_seconds if grace is None else grace
            self.health.shutdown()
            _run_hooks(self._drain_hooks)
            log.info(
                "draining", extra={"fields": {"in_flight": self.in_flight.count, "grace_seconds": grace}}
            )
            if self._server is not None:
                self._server.stop(grace).wait(grace + 5)
            self._pool.shutdown(wait=False)
            if self.in_flight.count:
                log.warning("grace period over", extra={"fields": {"cut_off_calls": self.in_flight.count}})
            _run_hooks(self._shutdown_hooks)
            if self._health_server is not None:
                self._health_server.stop(0).wait(5)
            if self._metrics is not None:
                self._metrics.close()
            log.info("stopped")
        finally:
            self._stopped.set()
            self._stop_lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until stop() has finished or the timeout passes; True when stopped."""
        return self._stopped.wait(timeout)

    def _stream_cap(self) -> StreamCap:
        return StreamCap(
            total=self.settings.max_health_reflection_streams,
            per_peer=self.settings.max_health_reflection_streams_per_peer,
        )

    def __enter__(self) -> ServiceHost:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(0)


def _run_hooks(hooks: Sequence[Callable[[], None]]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:
            log.exception("stop hook %r failed", hook)


def serve(
    settings: ServiceSettings,
    bindings: Sequence[ServiceBinding | tuple[str, Register]],
    policy: AccessPolicy,
    readiness: Readiness = always_ready,
    options: HostOptions = DEFAULT_OPTIONS,
    *,
    on_started: Callable[[ServiceHost], None] | None = None,
) -> int:
    """Run the services until SIGTERM/SIGINT, then drain and flush; returns the exit code (0).

    `on_started` is called once every port is bound (a worker tells its supervisor where it serves).
    """
    host = ServiceHost(settings, bindings, policy, readiness, options)
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        host.start()
        if on_started is not None:
            on_started(host)
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop_requested.wait(timeout=1.0):
            pass
        host.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        telemetry.shutdown()
        flush_logs()  # the access lines of the last calls, queued for the log writer
    return 0
