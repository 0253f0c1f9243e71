"""The platform as `make up` starts it, on free ports, quiet, with what the benchmarks need on top.

`BenchPlatform.start()` runs `gamectl.suite.Suite` on a fresh root (embedded PostgreSQL, moto's S3, the
dev PKI, the three services), with telemetry off and WARNING logs (an access-log line per call would
be measured along with the service), and adds an API key without a rate limit or a limit of calls in
flight. Extra gateway and catalog processes (cache off, a second replica, production settings) get the
suite's environment for that service on new ports.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import grpc

from bench.calls import gateway_channel, identity_files, search
from gamectl.net import free_port
from gamectl.processes import stop_processes
from gamectl.suite import RunningService, Suite
from gamekit.tls import TlsFiles
from gateway.callers.keys import create_key

HOST = "127.0.0.1"
# Variables of the caller's shell that would point the suite at other servers or exporters.
_FOREIGN_PREFIXES = ("CATALOG_", "INGESTION_", "GATEWAY_", "AWS_", "OTEL_", "GAMECTL_")
# A rate far above anything one machine can send: the benchmark measures the gateway, not its limiter.
UNLIMITED_RPS = 1e9
# Above any VU count a scenario uses (the default is 8 calls in flight per key and replica).
UNLIMITED_IN_FLIGHT = 1024


def base_environ() -> dict[str, str]:
    """os.environ without platform settings, every port picked free, telemetry off, quiet logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_PREFIXES)}
    for prefix in ("CATALOG", "INGESTION", "GATEWAY"):
        env.update({f"{prefix}_{port}": "0" for port in ("PORT", "HEALTH_PORT", "METRICS_PORT")})
        env[f"{prefix}_LOG_LEVEL"] = "WARNING"
    env["OTEL_SDK_DISABLED"] = "true"
    return env


@dataclass
class BenchPlatform:
    """A started suite, its certificates, an unlimited API key, and extra gateways."""

    suite: Suite
    api_key: str
    extras: list[RunningService] = field(default_factory=list)

    @classmethod
    def start(cls, workdir: Path | None = None) -> BenchPlatform:
        """Start the whole platform under a fresh root (in `workdir`, else the system temp dir)."""
        if workdir is not None:
            workdir.mkdir(parents=True, exist_ok=True)
        # Not a 0700 directory: PostgreSQL runs as an unprivileged user when we are root.
        root = Path(tempfile.mkdtemp(prefix="games-bench-", dir=workdir))
        root.chmod(0o755)
        suite = Suite(root, environ=base_environ())
        try:
            suite.start()
            key = create_key(
                suite.keys_file,
                key_id="bench",
                scopes=("games.read", "games.write", "ingestion.admin"),
                rate_limit_rps=UNLIMITED_RPS,
                rate_limit_burst=1_000_000,
                max_in_flight=UNLIMITED_IN_FLIGHT,
            )
        except BaseException:
            suite.stop()
            shutil.rmtree(root, ignore_errors=True)
            raise
        platform = cls(suite=suite, api_key=key)
        platform._wait_keys_reloaded()
        return platform

    @property
    def root(self) -> Path:
        return self.suite.root

    @property
    def certs(self) -> Path:
        return self.suite.local_dir / "certs"

    def tls(self, identity: str) -> TlsFiles:
        """The CA and the certificate of `identity` (operator, gateway, ingestion, catalog)."""
        return identity_files(self.certs, identity)

    def service(self, name: str) -> RunningService:
        """The suite's running `catalog`, `ingestion` or `gateway`."""
        return next(s for s in self.suite.services if s.spec.name == name)

    def target(self, name: str) -> str:
        """host:port of a suite service's mTLS port."""
        return f"{HOST}:{self.service(name).port}"

    @property
    def database_url(self) -> str:
        """The catalog's (and the ledger's) database, as a libpq URL."""
        url = self.service("catalog").env["CATALOG_DATABASE_URL"]
        return url.replace("postgresql+psycopg://", "postgresql://", 1)

    def start_gateway(
        self, settings: Mapping[str, str] | None = None, *, quiet: bool = False, log_file: Path | None = None
    ) -> RunningService:
        """One more gateway process with the suite gateway's environment, new ports and `settings`."""
        return self.start_service("gateway", settings, quiet=quiet, log_file=log_file)

    def start_service(
        self,
        name: str,
        settings: Mapping[str, str] | None = None,
        *,
        quiet: bool = False,
        log_file: Path | None = None,
    ) -> RunningService:
        """One more `name` process (gateway or catalog) with the suite's environment for it, new ports
        and `settings`; stopped by `stop_gateway` or with the platform.

        `quiet` sends its output to /dev/null, `log_file` appends it to that file (a service logging every
        call at INFO would flood ours; a file costs it what a container runtime's pipe would).
        """
        suite_service = self.service(name)
        spec, prefix = suite_service.spec, suite_service.spec.env_prefix
        env = dict(suite_service.env)
        env.update({f"{prefix}{port}": str(free_port()) for port in ("PORT", "HEALTH_PORT", "METRICS_PORT")})
        env.update(settings or {})
        with contextlib.ExitStack() as files:
            output: int | IO[bytes] | None = subprocess.DEVNULL if quiet else None
            if log_file is not None:
                output = files.enter_context(log_file.open("ab"))
            process = subprocess.Popen(
                [sys.executable, "-m", spec.module, "serve"], env=env, stdout=output, stderr=output
            )
        running = RunningService(
            spec, process, int(env[f"{prefix}PORT"]), int(env[f"{prefix}HEALTH_PORT"]), env
        )
        self.extras.append(running)
        self.suite._wait_serving(running)  # the suite's own wait, as for its services
        return running

    def stop_gateway(self, service: RunningService) -> None:
        """SIGTERM one extra process (a gateway, or a catalog) and wait for it."""
        stop_processes([service.process], timeout=30)
        self.extras.remove(service)

    def stop(self) -> None:
        """Stop the extra gateways, the suite, and remove the root."""
        try:
            stop_processes([s.process for s in self.extras], timeout=30)
            self.extras.clear()
            self.suite.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _wait_keys_reloaded(self) -> None:
        """The gateway re-reads its keys file every few seconds: wait until it knows the bench key."""
        deadline = time.monotonic() + 30
        with gateway_channel(self.target("gateway"), self.tls("operator"), self.api_key) as channel:
            while True:
                try:
                    search(channel, "bench")
                    return
                except grpc.RpcError as error:
                    if error.code() is not grpc.StatusCode.UNAUTHENTICATED or time.monotonic() > deadline:
                        raise
                time.sleep(0.2)
