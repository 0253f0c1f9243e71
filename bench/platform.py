"""The platform as `make up` starts it, on free ports, quiet, with what the benchmarks need on top.

`BenchPlatform.start()` runs `gamectl.suite.Suite` on a fresh root (embedded PostgreSQL, moto's S3, the
dev PKI, the three services), with telemetry off and WARNING logs (an access-log line per call would
be measured along with the service), and adds an API key without a rate limit or a limit of calls in
flight. Extra gateway and catalog processes (cache off, a second replica, production settings) get the
suite's environment for that service on new ports: the tests' harness (tests/fixtures/servers.py)
starts and stops them, as it does the end-to-end tests' extra gateways.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc

from bench.calls import gateway_channel, identity_files, search
from gamectl.suite import RunningService
from gamekit.security.tls import TlsFiles
from gateway.callers.keys import create_key
from tests.fixtures.eventually import eventually
from tests.fixtures.servers import (
    HOST,
    Output,
    SuiteProcesses,
    platform_environ,
    remove_suite,
    start_suite,
    wait_serving,
)

# A rate far above anything one machine can send: the benchmark measures the gateway, not its limiter.
UNLIMITED_RPS = 1e9
# Above any VU count a scenario uses (the default is 8 calls in flight per key and replica).
UNLIMITED_IN_FLIGHT = 1024


@dataclass
class BenchPlatform(SuiteProcesses):
    """A started suite, its certificates, an unlimited API key, and extra gateways."""

    api_key: str

    @classmethod
    def start(cls, workdir: Path | None = None) -> BenchPlatform:
        """Start the whole platform under a fresh root (in `workdir`, else the system temp dir)."""
        suite = start_suite(platform_environ(), prefix="games-bench-", workdir=workdir)
        try:
            key = create_key(
                suite.keys_file,
                key_id="bench",
                scopes=("games.read", "games.write", "ingestion.admin"),
                rate_limit_rps=UNLIMITED_RPS,
                rate_limit_burst=1_000_000,
                max_in_flight=UNLIMITED_IN_FLIGHT,
            )
        except BaseException:
            remove_suite(suite)
            raise
        platform = cls(suite=suite, api_key=key)
        platform._wait_keys_reloaded()
        return platform

    @property
    def certs(self) -> Path:
        return self.suite.local_dir / "certs"

    def tls(self, identity: str) -> TlsFiles:
        """The CA and the certificate of `identity` (operator, gateway, ingestion, catalog)."""
        return identity_files(self.certs, identity)

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
        and `settings`, once SERVING; stopped by `stop_gateway` or with the platform.

        `quiet` sends its output to /dev/null, `log_file` appends it to that file (a service logging every
        call at INFO would flood ours; a file costs it what a container runtime's pipe would).
        """
        output: Output = log_file if log_file is not None else subprocess.DEVNULL if quiet else None
        running = self.start_extra(name, settings, output=output)
        wait_serving(running)
        return running

    def stop_gateway(self, service: RunningService) -> None:
        """SIGTERM one extra process (a gateway, or a catalog) and wait for it."""
        self.stop_extra(service)

    def stop(self) -> None:
        """Stop the extra gateways, the suite, and remove the root."""
        try:
            self.stop_extras()
        finally:
            remove_suite(self.suite)

    def _wait_keys_reloaded(self) -> None:
        """The gateway re-reads its keys file every few seconds: wait until it knows the bench key."""
        with gateway_channel(self.target("gateway"), self.tls("operator"), self.api_key) as channel:

            def known() -> bool:
                try:
                    search(channel, "bench")
                except grpc.RpcError as error:
                    if error.code() is not grpc.StatusCode.UNAUTHENTICATED:
                        raise
                    return False
                return True

            eventually(known, timeout=30, what="the gateway knowing the bench key", interval=0.2)
