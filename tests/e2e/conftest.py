"""The whole platform as `make up` starts it, once per test module, and extra or restarted processes.

`platform_suite` runs `gamectl.suite.Suite` in-process on a fresh root with every port "0": embedded
PostgreSQL, moto's S3, the catalog, ingestion and the gateway, each `python -m <service> serve` with
the environment `gamectl up` gives it. A module may override `suite_environ` to add variables (the
trace test points OTEL_* at its receiver). `E2ESuite` adds what the fault tests need to the harness's
SuiteProcesses (tests/fixtures/servers.py): extra gateway processes with the suite gateway's
environment on new ports, a stopped service started again on its same ports, callers' channels and
API keys. Every process and channel it makes is closed at the end of the module.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

from gamectl.suite import RunningService
from gamekit.status import ErrorDetails, error_details
from gamesclient.channel import AuthInterceptor
from gateway.callers.keys import create_key
from tests.fixtures import plugins, scraped
from tests.fixtures.eventually import eventually
from tests.fixtures.otlp import OtlpReceiver
from tests.fixtures.scraped import Samples, sample
from tests.fixtures.servers import (
    HOST,
    STOP_TIMEOUT_SECONDS,
    Output,
    SuiteProcesses,
    platform_environ,
    remove_suite,
    start_suite,
)


def pytest_configure(config: pytest.Config) -> None:
    # The shared rate limit runs on a private redis-server.
    plugins.load(config, "tests.fixtures.redis")


def suite_base_environ(extra: dict[str, str]) -> dict[str, str]:
    """os.environ without platform settings, every port "0", telemetry off unless `extra` turns it on.

    The gateways log at WARNING: thousands of calls per test, an access-log line each, would cost the
    2-core CI machine real CPU.
    """
    return platform_environ(extra, quiet=("GATEWAY",))


def metrics_port(service: RunningService) -> int:
    """The Prometheus port `service` was given."""
    return int(service.env[f"{service.spec.env_prefix}METRICS_PORT"])


def scrape(service: RunningService) -> Samples:
    """Every sample on the service's metrics port: (name, labels) → value."""
    return scraped.scrape(metrics_port(service), HOST)


def wait_following(gateway: RunningService, timeout: float = 10.0) -> None:
    """Block until `gateway` follows the catalog's revision watch, so its cache is in use."""
    eventually(
        lambda: sample(scrape(gateway), "gateway_revision_watch_up") == 1,
        timeout=timeout,
        what="the gateway's revision watch connected",
    )


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
class E2ESuite(SuiteProcesses):
    """A started Suite, what its suite.json says, and helpers for extra processes, keys and channels.

    Every process it starts writes its output to a file under `logs`, whose end a failed start shows.
    """

    info: dict[str, Any]
    logs: Path
    _channels: list[grpc.Channel] = field(default_factory=list)

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
        env = {f"GATEWAY_{name.upper()}": value for name, value in settings.items()}
        return self.start_extra("gateway", env, output=self._log(f"gateway-extra-{index}"))

    def start_again(self, service: RunningService, *, output: Output = None) -> RunningService:
        """A stopped suite service started again with its same environment, so on its same ports."""
        return super().start_again(service, output=output or self._log(f"{service.spec.name}-restarted"))

    def close(self) -> None:
        """Close every channel and extra process; the suite itself is stopped by its fixture."""
        for channel in self._channels:
            channel.close()
        self._channels.clear()
        self.stop_extras()

    def _log(self, name: str) -> Path:
        return self.logs / f"{name}-{time.monotonic_ns()}.log"


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
    suite = start_suite(suite_base_environ(suite_environ), prefix="games-e2e-")
    e2e: E2ESuite | None = None
    try:
        logs = suite.root / "logs"
        logs.mkdir()
        e2e = E2ESuite(suite=suite, info=json.loads(suite.suite_file.read_text()), logs=logs)
        yield e2e
    finally:
        try:
            if e2e is not None:
                e2e.close()
        finally:
            remove_suite(suite)
