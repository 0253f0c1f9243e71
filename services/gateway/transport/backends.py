"""The gateway's mTLS channels to the catalog and ingestion, and whether the catalog answers health."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gamekit.clients.channels import secure_channel
from gamekit.status import status_code
from gateway.settings import GatewaySettings
from gateway.surface import CATALOG, INGESTION, idempotent_methods

log = logging.getLogger(__name__)
SERVING = health_pb2.HealthCheckResponse.SERVING
# gRPC's default reconnect backoff grows from 1 s to 2 min: after a long backend outage the gateway would
# go on failing calls for up to that long once the backend is back. Backends are few and near: retry
# connecting quickly, at least every 2 s.
RECONNECT_OPTIONS = (("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 2000))


@dataclass
class Backends:
    """One channel per backend, presenting the gateway's own certificate."""

    catalog: grpc.Channel
    ingestion: grpc.Channel
    health_timeout: float = 1.0

    def ready(self) -> bool:
        """True while the catalog reports SERVING.

        Ingestion is left out on purpose: it serves only admin calls, which answer UNAVAILABLE while it
        is down, and taking every gateway out of rotation for it would stop every caller's reads too.
        """
        return self._serving("catalog", self.catalog)

    def _serving(self, name: str, channel: grpc.Channel) -> bool:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=self.health_timeout
            )
        except grpc.RpcError as error:
            log.debug("%s health check failed: %s", name, status_code(error).name)
            return False
        return bool(reply.status == SERVING)

    def close(self) -> None:
        """Close both channels."""
        self.catalog.close()
        self.ingestion.close()


def connect(settings: GatewaySettings) -> Backends:
    """Channels to both backends, retrying the idempotent methods on UNAVAILABLE."""

    def channel(target: str, service: str) -> grpc.Channel:
        return secure_channel(
            target,
            ca_file=settings.tls_ca_file,
            cert_file=settings.tls_cert_file,
            key_file=settings.tls_key_file,
            idempotent_methods=idempotent_methods(service),
            server_name=settings.backend_server_name,
            options=RECONNECT_OPTIONS,
        )

    return Backends(
        catalog=channel(settings.catalog_target, CATALOG.full_name),
        ingestion=channel(settings.ingestion_target, INGESTION.full_name),
    )
