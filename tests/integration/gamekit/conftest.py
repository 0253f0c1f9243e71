"""Real gamekit servers on loopback with real mTLS, and channels to them under any identity."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import grpc
import pytest

from gamectl.certs import DevPki, spiffe_id
from gamekit.observability.logs import configure_logging, flush_logs
from gamekit.security.identity import AccessPolicy
from gamekit.serving.health import always_ready
from gamekit.serving.host import ServiceHost
from gamekit.serving.options import DEFAULT_OPTIONS, HostOptions
from gamekit.settings import ServiceSettings
from games.catalog.v1 import catalog_pb2
from tests.fixtures.pki import ChannelAs
from tests.fixtures.servers import loopback_settings, stopping
from tests.integration.gamekit.servicers import SERVICE, FakeCatalog, register

CATALOG = catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"]
# gateway and catalog (for service-to-service tests) may call; ingestion and operator may not.
POLICY = AccessPolicy.for_service(CATALOG, [spiffe_id("gateway"), spiffe_id("catalog")])


def settings_for(pki: DevPki, name: str = "catalog", **overrides: object) -> ServiceSettings:
    """Settings for a server on free loopback ports with `name`'s certificate."""
    return ServiceSettings(**loopback_settings(pki, name, **overrides))


StartHost = Callable[..., ServiceHost]
OpenChannel = Callable[..., grpc.Channel]


@pytest.fixture
def start_host(dev_pki: DevPki) -> Iterator[StartHost]:
    """Start ServiceHosts with a FakeCatalog; every one is stopped after the test."""
    with stopping(lambda host: host.stop(0)) as keep:

        def start(
            servicer: FakeCatalog | None = None,
            *,
            settings: ServiceSettings | None = None,
            readiness: Callable[[], bool] = always_ready,
            options: HostOptions = DEFAULT_OPTIONS,
        ) -> ServiceHost:
            host = ServiceHost(
                settings or settings_for(dev_pki),
                [(SERVICE, register(servicer or FakeCatalog()))],
                POLICY,
                readiness,
                options,
            )
            return keep(host).start()

        yield start


@pytest.fixture
def open_channel(channel_as: ChannelAs) -> OpenChannel:
    """mTLS channels to a loopback port as a dev identity (`gateway` by default); see `channel_as`."""

    def open_(port: int, identity: str = "gateway", **overrides: object) -> grpc.Channel:
        return channel_as(f"127.0.0.1:{port}", identity, **overrides)

    return open_


class _WrittenLogs(io.StringIO):
    """Captured log lines; reading them waits for the background log writer to catch up."""

    def getvalue(self) -> str:
        flush_logs()
        return super().getvalue()


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Capture the process's JSON log lines for the test."""
    stream = _WrittenLogs()
    handler = configure_logging("test", "INFO", stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)
