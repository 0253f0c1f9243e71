"""The whole platform as `make up` starts it, once per test module, and extra or restarted processes.

`platform_suite` runs `gamectl.suite.Suite` in-process on a fresh root with every port "0": embedded
PostgreSQL, moto's S3, the catalog, ingestion and the gateway, each `python -m <service> serve` with
the environment `gamectl up` gives it. A module may override `suite_environ` to add variables (the
trace test points OTEL_* at its receiver). `E2ESuite` adds what the fault tests need: extra gateway
processes with the suite gateway's environment on new ports, stopping and starting a service again
on its same ports, callers' channels and API keys. Every process and channel it makes is closed at
the end of the module.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gamectl.net import free_port
from gamectl.suite import GATEWAY, RunningService, Suite
from gamekit.status import ErrorDetails, error_details
from gamesclient.channel import AuthInterceptor
from gateway.callers.keys import create_key
from tests.fixtures.health import SERVING, health_status
from tests.fixtures.otlp import OtlpReceiver

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0
# Set only in the environment of processes E2ESuite starts; names their output file, for failure messages.
_LOG_FILE_VARIABLE = "E2E_LOG_FILE"
# Variables of the developer's shell that would point the suite at other servers or exporters.
_FOREIGN_PREFIXES = ("CATALOG_", "INGESTION_", "GATEWAY_", "AWS_", "OTEL_", "GAMECTL_")


def suite_base_environ(extra: dict[str, str]) -> dict[str, str]:
    """os.environ without platform settings, every port "0", telemetry off unless `extra` turns it on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_PREFIXES)}
    for prefix in ("CATALOG", "INGESTION", "GATEWAY"):
        env.update({f"{prefix}_PORT": "0", f"{prefix}_HEALTH_PORT": "0", f"{prefix}_METRICS_PORT": "0"})
    # Thousands of calls per test: an access-log line each would cost the 2-core CI machine real CPU.
    env["GATEWAY_LOG_LEVEL"] = "WARNING"
    env["OTEL_SDK_DISABLED"] = "true"
    env.update(extra)
    if "OTEL_EXPORTER_OTLP_ENDPOINT" in extra:
        env.pop("OTEL_SDK_DISABLED")
    return env


def wait_serving(service: RunningService, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Block until `service` reports SERVING on its health port; AssertionError if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = service.process.poll()
        assert code is None, f"{service.spec.name} exited with {code} before SERVING{_log_tail(service)}"
        if health_status(service.health_port) == SERVING:
            return
        time.sleep(0.1)
    raise AssertionError(f"{service.spec.name} not SERVING within {timeout:.0f}s{_log_tail(service)}")


def _log_tail(service: RunningService) -> str:
    """The end of the output of a process E2ESuite started (its log file is named in its env)."""
    path = service.env.get(_LOG_FILE_VARIABLE)
    if path is None:
        return ""
    try:
        return ":\n" + Path(path).read_text(errors="replace")[-3000:]
    except OSError:
        return ""


def metrics_port(service: RunningService) -> int:
    """The Prometheus port `service` was given."""
    return int(service.env[f"{service.spec.env_prefix}METRICS_PORT"])


def scrape(service: RunningService) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample on the service's metrics port: (name, labels) → value."""
    url = f"http://{HOST}:{metrics_port(service)}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """One sample of a scrape (0 when absent)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_following(gateway: RunningService, timeout: float = 10.0) -> None:
    """Block until `gateway` follows the catalog's revision watch, so its cache is in use."""
    deadline = time.monotonic() + timeout
    while sample(scrape(gateway), "gateway_revision_watch_up") != 1:
        assert time.monotonic() < deadline, "the gateway's revision watch is not connected"
        time.sleep(0.1)


@dataclass(frozen=True)
class Outcome:
    """One call a load thread made: which lane (gateway), when (time.monotonic()), how it ended."""

    lane: int
    started: float
    ended: float
    code: grpc.StatusCode
    details: ErrorDetails | None = None  # decoded status of a failed call


Call = Callable[[], object]


class Load:
    """Threads calling their lane's `call` in a loop until `stop()`, recording every outcome.

    `lanes[i]` is called by `threads_per_lane` threads; each pauses `pause` seconds between calls, so
    the callers leave some of the 2-core machine to the servers they call.
    """

    def __init__(self, lanes: Sequence[Call], *, threads_per_lane: int = 2, pause: float = 0.005) -> None:
        self._lanes = lanes
        self._pause = pause
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._outcomes: list[Outcome] = []
        self._threads = [
            threading.Thread(target=self._run, args=(lane,), name=f"load-{lane}-{n}", daemon=True)
            for lane in range(len(lanes))
            for n in range(threads_per_lane)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def outcomes(self) -> list[Outcome]:
        """What has been recorded so far."""
        with self._lock:
            return list(self._outcomes)

    def stop(self) -> list[Outcome]:
        """Stop every thread (each finishes its current call) and return all outcomes."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=STOP_TIMEOUT_SECONDS)
        assert not any(t.is_alive() for t in self._threads), "a load thread did not finish its call"
        return self.outcomes()

    def _run(self, lane: int) -> None:
        call = self._lanes[lane]
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                call()
                outcome = Outcome(lane, started, time.monotonic(), grpc.StatusCode.OK)
            except grpc.RpcError as error:
                details = error_details(error)
                outcome = Outcome(lane, started, time.monotonic(), details.code, details)
            with self._lock:
                self._outcomes.append(outcome)
            self._stop.wait(self._pause)


@dataclass
class E2ESuite:
    """A started Suite, what its suite.json says, and helpers for extra processes, keys and channels."""

    suite: Suite
    info: dict[str, Any]
    logs: Path
    _channels: list[grpc.Channel] = field(default_factory=list)
    _extras: list[RunningService] = field(default_factory=list)
    _log_files: list[IO[bytes]] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.suite.root

    def service(self, name: str) -> RunningService:
        """The suite's running `catalog`, `ingestion` or `gateway`."""
        return next(s for s in self.suite.services if s.spec.name == name)

    def target(self, service: RunningService) -> str:
        """host:port of a service's TLS business port."""
        return f"{HOST}:{service.port}"

    def api_key(self, name: str) -> str:
        """The plaintext of a key the suite wrote into suite.json (`admin`, `reader`)."""
        return str(self.info["api_keys"][name])

    def add_key(
        self, key_id: str, scopes: Iterable[str], *, rps: float | None = None, burst: int | None = None
    ) -> str:
        """A new key in the gateways' keys file (they re-read it); its plaintext."""
        return create_key(
            self.suite.keys_file, key_id=key_id, scopes=scopes, rate_limit_rps=rps, rate_limit_burst=burst
        )

    def channel(self, target: str, api_key: str) -> grpc.Channel:
        """A caller's channel to a gateway: TLS with the operator certificate, the key, and NO retries.

        Without a retry policy of its own, any failure the platform lets through reaches the test.
        """
        root = self.root
        credentials = grpc.ssl_channel_credentials(
            root_certificates=(root / self.info["ca"]).read_bytes(),
            private_key=(root / self.info["client_key"]).read_bytes(),
            certificate_chain=(root / self.info["client_cert"]).read_bytes(),
        )
        inner = grpc.secure_channel(target, credentials)
        channel = grpc.intercept_channel(inner, AuthInterceptor(api_key, timeout=None))
        self._channels.append(channel)
        return channel

    def start_gateway(self, index: int, **settings: str) -> RunningService:
        """One more `python -m gateway serve` with the suite gateway's environment on new ports.

        `settings` are GATEWAY_* values by their lowercase suffix (redis_url="redis://...").
        """
        env = dict(self.service("gateway").env)
        env.update(
            {f"GATEWAY_{name}": str(self._new_port()) for name in ("PORT", "HEALTH_PORT", "METRICS_PORT")}
        )
        env.update({f"GATEWAY_{name.upper()}": value for name, value in settings.items()})
        running = RunningService(
            GATEWAY,
            self._spawn(env, f"gateway-extra-{index}"),
            int(env["GATEWAY_PORT"]),
            int(env["GATEWAY_HEALTH_PORT"]),
            env,
        )
        self._extras.append(running)
        return running

    def stop_process(self, service: RunningService, sig: int = signal.SIGTERM) -> int:
        """Signal a service process and wait for it to exit; its exit code."""
        if service.process.poll() is None:
            service.process.send_signal(sig)
        return service.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def start_again(self, service: RunningService) -> RunningService:
        """A stopped suite service started again with its same environment, so on its same ports."""
        assert service.process.poll() is not None, f"{service.spec.name} is still running"
        env = dict(service.env)
        process = self._spawn(env, f"{service.spec.name}-restarted")
        again = RunningService(service.spec, process, service.port, service.health_port, env)
        services = self.suite.services
        services[services.index(service)] = again  # Suite.stop() stops the new process
        return again

    def stop_extras(self) -> None:
        """SIGTERM every extra gateway (kill it if it does not stop)."""
        for service in self._extras:
            _stop(service.process)
        self._extras.clear()

    def close(self) -> None:
        """Close every channel and extra process; the suite itself is stopped by its fixture."""
        for channel in self._channels:
            channel.close()
        self._channels.clear()
        self.stop_extras()
        for file in self._log_files:
            file.close()

    def _new_port(self) -> int:
        """A free port below the ephemeral range that no process of this run was given."""
        return free_port(HOST)

    def _spawn(self, env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        path = self.logs / f"{name}-{time.monotonic_ns()}.log"
        env[_LOG_FILE_VARIABLE] = str(path)
        log = path.open("wb")
        self._log_files.append(log)
        return subprocess.Popen(
            [sys.executable, "-m", env_module(env), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )


def env_module(env: dict[str, str]) -> str:
    """Which service an environment made by the suite is for (the one prefix carrying TLS_CERT_FILE)."""
    for module in ("gateway", "catalog", "ingestion"):
        if f"{module.upper()}_TLS_CERT_FILE" in env:
            return module
    raise ValueError("not an environment the suite made")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    """An OTLP receiver for a module's suite to export to (tests.fixtures.otlp.exporting_to); stopped
    after the suite, which depends on it through suite_environ."""
    started = OtlpReceiver().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def suite_environ() -> dict[str, str]:
    """Variables a module adds to the suite's environment (override in the module)."""
    return {}


@pytest.fixture(scope="module")
def platform_suite(suite_environ: dict[str, str]) -> Iterator[E2ESuite]:
    """The whole platform from a fresh root, as `make up` starts it; stopped after the module."""
    # Not pytest's tmp_path: its 0700 tree would lock out PostgreSQL's unprivileged user.
    root = Path(tempfile.mkdtemp(prefix="games-e2e-"))
    logs = root / "logs"
    logs.mkdir()
    suite = Suite(root, environ=suite_base_environ(suite_environ))
    e2e: E2ESuite | None = None
    try:
        info = suite.start()
        e2e = E2ESuite(suite=suite, info=dict(info), logs=logs)
        yield e2e
    finally:
        try:
            if e2e is not None:
                e2e.close()
            suite.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
