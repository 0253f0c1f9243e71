"""The whole platform on one machine, the way `make up` runs it (`gamectl up` is in gamectl.up).

`Suite.start()` prepares what a fresh machine lacks (dev certificates, an embedded PostgreSQL unless
CATALOG_DATABASE_URL is given, migrations), starts every service as its own process, waits until
each reports SERVING on its plaintext health port and writes `.local/suite.json`; `Suite.stop()`
stops everything it started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gamectl.certs import DevPki, ensure_dev_pki
from gamectl.localpg import LocalPostgres
from gamectl.net import free_port
from gamectl.processes import stop_processes
from gamectl.prometheuslocal import PrometheusProcess, find_prometheus
from gamectl.redislocal import RedisProcess, find_redis_server
from gamectl.s3local import ACCESS_KEY_ID, SECRET_ACCESS_KEY, LocalS3
from gateway.callers.keys import SCOPES, create_key

STARTUP_TIMEOUT_SECONDS = 60.0
# Well past a service's default grace period (10 s): a SIGTERMed service drains its calls, then exits.
SERVICE_STOP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service: its module, settings prefix and default local ports."""

    name: str
    module: str
    env_prefix: str
    port: int
    health_port: int
    metrics_port: int


CATALOG = ServiceSpec("catalog", "catalog", "CATALOG_", 50061, 50062, 9461)
INGESTION = ServiceSpec("ingestion", "ingestion", "INGESTION_", 50071, 50072, 9471)
GATEWAY = ServiceSpec("gateway", "gateway", "GATEWAY_", 50051, 50052, 9451)
# The two keys the local suite hands out: every scope, and read-only.
LOCAL_KEYS = {"admin": SCOPES, "reader": ("games.read",)}
SAMPLE_DATA = Path(__file__).resolve().parents[2] / "deploy" / "local" / "sample-data"
LOCAL_BUCKET = "games-deliveries"
LOCAL_QUEUE = "games-deliveries-events"
# Deliveries of one event message before SQS moves it to the dead-letter queue.
LOCAL_MAX_RECEIVE_COUNT = 5


@dataclass
class RunningService:
    """A started service process and the ports it was given."""

    spec: ServiceSpec
    process: subprocess.Popen[bytes]
    port: int
    health_port: int
    env: dict[str, str]


def python_module(name: str) -> list[str]:
    """The command that runs a service's module with this interpreter: `python -m <name>`."""
    return [sys.executable, "-m", name]


@dataclass
class Suite:
    """The local platform: its files under `local_dir`, its processes, its database.

    `launcher` turns a service's name into the command that runs it, before its subcommand (`serve`,
    `migrate`, `run-once`): this interpreter's `-m` by default; a test of the image passes the console
    scripts of another virtualenv.
    """

    root: Path
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    host: str = "127.0.0.1"
    launcher: Callable[[str], list[str]] = python_module
    services: list[RunningService] = field(default_factory=list)
    postgres: LocalPostgres | None = None
    s3: LocalS3 | None = None
    redis: RedisProcess | None = None
    prometheus: PrometheusProcess | None = None
    ingestion_env: dict[str, str] = field(default_factory=dict)

    @property
    def local_dir(self) -> Path:
        return self.root / ".local"

    @property
    def suite_file(self) -> Path:
        return self.local_dir / "suite.json"

    @property
    def keys_file(self) -> Path:
        return self.local_dir / "keys.json"

    def _api_keys(self) -> dict[str, str]:
        """Fresh `admin` and `reader` keys in the gateway's keys file; their plaintext for suite.json."""
        return {
            name: create_key(self.keys_file, key_id=name, scopes=scopes)
            for name, scopes in LOCAL_KEYS.items()
        }

    def _redis_environment(self) -> dict[str, str]:
        """GATEWAY_REDIS_URL as given, or a private redis-server when GAMECTL_REDIS=1; else none."""
        if self.environ.get("GATEWAY_REDIS_URL") or self.environ.get("GAMECTL_REDIS") != "1":
            return {}
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError("GAMECTL_REDIS=1 needs redis-server on PATH")
        self.redis = RedisProcess(binary)
        self.redis.start()
        return {"GATEWAY_REDIS_URL": self.redis.url}

    def start(self) -> dict[str, str | dict[str, str]]:
        """Bring every service up and write suite.json; raise RuntimeError if one does not come up."""
        self.suite_file.unlink(missing_ok=True)
        prometheus = find_prometheus() if self.environ.get("GAMECTL_PROMETHEUS") == "1" else None
        pki = ensure_dev_pki(self.local_dir / "certs")
        database_url = self._database_url()
        self._run_module("catalog", "migrate", {"CATALOG_DATABASE_URL": database_url})
        self._run_module("ingestion", "migrate", {"INGESTION_DATABASE_URL": database_url})
        s3_env = self._s3_environment()
        catalog = self._spawn(CATALOG, pki, {"CATALOG_DATABASE_URL": database_url})
        ingestion = self._spawn(
            INGESTION,
            pki,
            {
                "INGESTION_DATABASE_URL": database_url,
                "INGESTION_CATALOG_TARGET": f"{self.host}:{catalog.port}",
                **s3_env,
            },
        )
        for service in self.services:
            self._wait_serving(service)
        api_keys = self._api_keys()
        gateway = self._spawn(
            GATEWAY,
            pki,
            {
                "GATEWAY_CATALOG_TARGET": f"{self.host}:{catalog.port}",
                "GATEWAY_INGESTION_TARGET": f"{self.host}:{ingestion.port}",
                "GATEWAY_API_KEYS_FILE": str(self.keys_file),
                **self._redis_environment(),
            },
        )
        self._wait_serving(gateway)
        info = self._describe(pki)
        info["api_keys"] = api_keys
        if prometheus is not None:
            self.prometheus = PrometheusProcess(prometheus, self.metrics_addresses())
            self.prometheus.start()
            info["prometheus"] = self.prometheus.address
        self.suite_file.write_text(json.dumps(info, indent=2) + "\n")
        self.ingestion_env = ingestion.env
        return info

    def ingest_once(self) -> int:
        """Run `ingestion run-once` against the suite (it prints its summary); its exit code."""
        return subprocess.run([*self.launcher("ingestion"), "run-once"], env=self.ingestion_env).returncode

    def stop(self) -> None:
        """SIGTERM every service (they drain), then stop the embedded database; suite.json goes too."""
        self.suite_file.unlink(missing_ok=True)
        stop_processes([s.process for s in reversed(self.services)], timeout=SERVICE_STOP_TIMEOUT_SECONDS)
        self.services.clear()
        if self.s3 is not None:
            self.s3.stop()
            self.s3 = None
        if self.redis is not None:
            self.redis.close()
            self.redis = None
        if self.prometheus is not None:
            self.prometheus.close()
            self.prometheus = None
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None

    def first_exited(self) -> RunningService | None:
        """A service whose process has ended, if any."""
        return next((s for s in self.services if s.process.poll() is not None), None)

    def _database_url(self) -> str:
        given = self.environ.get("CATALOG_DATABASE_URL")
        if given:
            return given
        self.postgres = LocalPostgres(self.local_dir / "postgres")
        self.postgres.start()
        return self.postgres.url()

    def _run_module(self, module: str, command: str, extra: Mapping[str, str]) -> None:
        subprocess.run([*self.launcher(module), command], env={**self.environ, **extra}, check=True)

    def _s3_environment(self) -> dict[str, str]:
        """The given S3 (AWS_ENDPOINT_URL_S3 + INGESTION_S3_BUCKET), or a local moto seeded with samples.

        The local one also sends S3 event notifications to an SQS queue that ingestion consumes, so a
        file uploaded while the suite runs is ingested without waiting for the next run.
        """
        if self.environ.get("AWS_ENDPOINT_URL_S3") and self.environ.get("INGESTION_S3_BUCKET"):
            return {}
        self.s3 = LocalS3(port=_port(self.environ.get("GAMECTL_S3_PORT"), 0))
        self.s3.start()
        self.s3.seed(LOCAL_BUCKET, SAMPLE_DATA)
        queue_url = self.s3.create_queue(LOCAL_QUEUE, max_receive_count=LOCAL_MAX_RECEIVE_COUNT)
        self.s3.enable_bucket_notifications(LOCAL_BUCKET, queue_url)
        return {
            "AWS_ENDPOINT_URL_S3": self.s3.endpoint,
            "AWS_ENDPOINT_URL_SQS": self.s3.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": self.s3.region,
            "INGESTION_S3_BUCKET": LOCAL_BUCKET,
            "INGESTION_S3_PREFIX": "",
            "INGESTION_SQS_QUEUE_URL": queue_url,
        }

    def _spawn(self, spec: ServiceSpec, pki: DevPki, extra: Mapping[str, str]) -> RunningService:
        cert = pki.certs[spec.name]
        ports = {
            key: _port(self.environ.get(spec.env_prefix + key), default)
            for key, default in (
                ("PORT", spec.port),
                ("HEALTH_PORT", spec.health_port),
                ("METRICS_PORT", spec.metrics_port),
            )
        }
        settings = {
            "HOST": self.host,
            **{key: str(value) for key, value in ports.items()},
            "TLS_CERT_FILE": str(cert.cert_file),
            "TLS_KEY_FILE": str(cert.key_file),
            "TLS_CA_FILE": str(pki.ca_file),
        }
        env = {**self.environ, **{spec.env_prefix + k: v for k, v in settings.items()}, **extra}
        process = subprocess.Popen([*self.launcher(spec.module), "serve"], env=env)
        running = RunningService(spec, process, ports["PORT"], ports["HEALTH_PORT"], env)
        self.services.append(running)
        return running

    def _wait_serving(self, service: RunningService) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        with grpc.insecure_channel(f"{self.host}:{service.health_port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if service.process.poll() is not None:
                    raise RuntimeError(f"{service.spec.name} exited with code {service.process.returncode}")
                try:
                    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.2)
        raise RuntimeError(
            f"{service.spec.name} did not report SERVING within {STARTUP_TIMEOUT_SECONDS:.0f}s"
        )

    def _describe(self, pki: DevPki) -> dict[str, str | dict[str, str]]:
        def rel(path: Path) -> str:
            return str(path.resolve().relative_to(self.root.resolve()))

        operator = pki.certs["operator"]
        info: dict[str, str | dict[str, str]] = {s.spec.name: f"{self.host}:{s.port}" for s in self.services}
        info.update(
            ca=rel(pki.ca_file), client_cert=rel(operator.cert_file), client_key=rel(operator.key_file)
        )
        info["metrics"] = self.metrics_addresses()
        return info

    def metrics_addresses(self) -> dict[str, str]:
        """host:port of each service's Prometheus endpoint, by service name."""
        return {
            s.spec.name: f"{self.host}:{s.env[s.spec.env_prefix + 'METRICS_PORT']}" for s in self.services
        }


def _port(value: str | None, default: int) -> int:
    """The port a setting asks for; unset means the default, 0 means any free port."""
    if value is None or value == "":
        return default
    port = int(value)
    return port if port else free_port()
