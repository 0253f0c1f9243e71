"""A service run as several processes in one pod, sharing its ports: one per core given to the pod.

A gRPC server in Python answers from one interpreter, so one process is held to about one core by
the GIL, whatever the pod is given. The supervisor (the pod's main process) reserves the gRPC ports,
starts `count` worker processes that bind them with SO_REUSEPORT (the kernel spreads new connections
over them), serves the pod's metrics port from theirs (gamekit.observability.metrics_fanin), passes
SIGTERM on and waits for their drain, and starts again a worker that dies. A worker that keeps dying ends the
supervisor, so the pod restarts and its CrashLoopBackOff shows.

A worker tells the supervisor where its own metrics are by one JSON line on a pipe
(`report_started`); the rest of what it needs comes from the environment, as for one process.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import FrameType

from prometheus_client import CollectorRegistry, Counter

from gamekit.observability.metrics import MetricsEndpoint, start_metrics_server
from gamekit.observability.metrics_fanin import WorkerMetrics
from gamekit.serving.host import ServiceHost

log = logging.getLogger(__name__)

# The environment variable naming the pipe a worker reports on (the supervisor knows whose pipe it is).
REPORT_FD = "GAMEKIT_WORKER_REPORT_FD"
# More deaths than this within CRASH_WINDOW_SECONDS end the supervisor: the pod restarts instead.
MAX_CRASHES = 5
CRASH_WINDOW_SECONDS = 60.0
RESTART_DELAY_SECONDS = 1.0


def reserve_port(host: str, port: int) -> socket.socket:
    """A socket holding `port` (or a free one, for 0) for the workers to share, never listening itself.

    The port is first bound alone, so a port another server holds (even one sharing it by
    SO_REUSEPORT) fails here with EADDRINUSE instead of splitting that server's traffic.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if port:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    held = socket.socket(family, socket.SOCK_STREAM)
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    held.bind((host, port))
    return held


def report_started(host: ServiceHost) -> None:
    """In a worker: tell the supervisor the metrics port this process bound (no-op when alone)."""
    fd = os.environ.get(REPORT_FD)
    if fd is None:
        return
    line = json.dumps({"metrics_port": host.metrics_port})
    with os.fdopen(int(fd), "w") as pipe:
        pipe.write(line + "\n")


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    metrics_port: int | None = None


class Supervisor:
    """Runs `count` copies of `command` sharing the ports named in `ports` (env name → port).

    `metrics` is where the pod's Prometheus endpoint binds (host, port); each worker gets its own
    loopback metrics port through `metrics_env` set to 0.
    """

    def __init__(
        self,
        command: Sequence[str],
        count: int,
        *,
        host: str,
        ports: Mapping[str, int],
        metrics: tuple[str, int],
        metrics_env: str,
        grace_seconds: float,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._command = list(command)
        self._count = count
        self._grace = grace_seconds
        self._held = {name: reserve_port(host, port) for name, port in ports.items()}
        self._environ = {
            **(os.environ if environ is None else environ),
            **{name: str(held.getsockname()[1]) for name, held in self._held.items()},
            metrics_env: "0",
        }
        self._metrics_address = metrics
        self._workers: dict[int, _Worker] = {}
        self._crashes: deque[float] = deque()
        self._stop = threading.Event()
        self.registry = CollectorRegistry()
        self.registry.register(WorkerMetrics(self.metrics_ports))
        self._restarts = Counter(
            "workers_restarted_total",
            "Worker processes of this pod started again after they died.",
            registry=self.registry,
        )
        self._endpoint: MetricsEndpoint | None = None

    @property
    def ports(self) -> dict[str, int]:
        """The ports the workers share, by environment variable name."""
        return {name: held.getsockname()[1] for name, held in self._held.items()}

    def metrics_ports(self) -> dict[int, int]:
        """Each reporting worker's own metrics port, by worker index (called from the scrape's thread)."""
        workers = list(self._workers.values())  # one step: _start may add a worker meanwhile
        return {w.index: w.metrics_port for w in workers if w.metrics_port is not None}

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT (0), or until workers keep dying (1)."""

        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("received %s", signal.Signals(signum).name)
            self._stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            host, port = self._metrics_address
            self._endpoint = start_metrics_server(port, host, registry=self.registry)
            for index in range(self._count):
                self._start(index)
            log.info(
                "supervising",
                extra={"fields": {"workers": self._count, **self.ports, "metrics_port": self._endpoint.port}},
            )
            code = self._watch()
            self._stop_workers()
            return code
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if self._endpoint is not None:
                self._endpoint.close()
            for held in self._held.values():
                held.close()

    def _start(self, index: int) -> None:
        read_end, write_end = os.pipe()
        env = {**self._environ, REPORT_FD: str(write_end)}
        try:
            process = subprocess.Popen(self._command, env=env, pass_fds=(write_end,))
        finally:
            os.close(write_end)
        worker = _Worker(index, process)
        reader = threading.Thread(
            target=self._read_report, args=(worker, read_end), name=f"worker-{index}-report", daemon=True
        )
        reader.start()
        self._workers[index] = worker

    def _read_report(self, worker: _Worker, read_end: int) -> None:
        with os.fdopen(read_end) as pipe:
            line = pipe.readline()
        try:
            worker.metrics_port = int(json.loads(line)["metrics_port"])
        except (ValueError, KeyError, TypeError):
            # No line: the worker died before serving (its exit is logged by the watch loop).
            if line:
                log.error(
                    "worker report unreadable", extra={"fields": {"worker": worker.index, "line": line}}
                )

    def _watch(self) -> int:
        while not self._stop.wait(0.2):
            for index, worker in list(self._workers.items()):
                code = worker.process.poll()
                if code is None:
                    continue
                log.error("worker exited", extra={"fields": {"worker": index, "exit_code": code}})
                if self._crashing():
                    log.error("workers keep dying: stopping the pod's processes")
                    return 1
                if self._stop.wait(RESTART_DELAY_SECONDS):
                    return 0
                self._restarts.inc()
                self._start(index)
        return 0

    def _crashing(self) -> bool:
        now = time.monotonic()
        self._crashes.append(now)
        while self._crashes and self._crashes[0] < now - CRASH_WINDOW_SECONDS:
            self._crashes.popleft()
        return len(self._crashes) > MAX_CRASHES

    def _stop_workers(self) -> None:
        """SIGTERM every worker (each drains as one process would), then wait; kill what outlives it."""
        running = [w.process for w in self._workers.values() if w.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self._grace + 10
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker outlived its grace period: killed", extra={"fields": {"pid": process.pid}})
                process.kill()
                process.wait()
        log.info("stopped")
