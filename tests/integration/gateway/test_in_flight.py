"""Calls in flight per key: one key's long calls cannot take every worker of the gateway from the rest."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import grpc
import pytest
from prometheus_client import REGISTRY

from gamectl.certs import DevPki, spiffe_id
from gamekit.security.identity import AccessPolicy
from gamekit.serving.options import HostOptions
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as ipb
from games.ingestion.v1 import ingestion_pb2_grpc as ipb_grpc
from gateway.callers.keys import create_key
from gateway.surface import ADMIN
from tests.fixtures.eventually import eventually
from tests.fixtures.gateway import ApiKeys, OpenGatewayChannel, RunningGateway, StartGateway
from tests.integration.gateway.backends import start_backend
from tests.integration.gateway.leaky_backend import LeakyCatalog

CATALOG = cpb.DESCRIPTOR.services_by_name["CatalogService"]
INGESTION = ipb.DESCRIPTOR.services_by_name["IngestionService"]
GATEWAY_WORKERS = 16  # gamekit's ServiceHost default: what sixteen long calls used to take, all of it
LIMIT = 4
CALLS_SECONDS = 20.0  # how long the gateway may take to pass calls on to the backend or refuse them


class HeldIngestion(ipb_grpc.IngestionServiceServicer):
    """An ingestion whose RunIngestion takes as long as the test says, as a long run or a stuck backend."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._held = 0

    @property
    def held(self) -> int:
        """Calls that reached this backend and wait for `release`."""
        with self._lock:
            return self._held

    def RunIngestion(self, request, context):
        with self._lock:
            self._held += 1
        self.release.wait(60)
        return ipb.RunIngestionResponse(run=ipb.Run(name="runs/1", state=ipb.RUN_STATE_SUCCEEDED))


@dataclass
class Held:
    backend: HeldIngestion
    gateway: RunningGateway
    keys: ApiKeys
    batch_key: str  # an ingestion.admin key with its own limit of 2 in the keys file


@pytest.fixture
def held(dev_pki: DevPki, start_gateway: StartGateway, api_keys: ApiKeys) -> Iterator[Held]:
    """A gateway allowing LIMIT calls in flight per key, in front of a catalog and a held ingestion."""
    catalog, ingestion = LeakyCatalog(), HeldIngestion()
    gateway_only = [spiffe_id("gateway")]
    host = start_backend(
        dev_pki,
        "ingestion",
        [
            (CATALOG.full_name, partial(cpb_grpc.add_CatalogServiceServicer_to_server, catalog)),
            (INGESTION.full_name, partial(ipb_grpc.add_IngestionServiceServicer_to_server, ingestion)),
        ],
        AccessPolicy.for_service(CATALOG, gateway_only) | AccessPolicy.for_service(INGESTION, gateway_only),
        HostOptions(max_workers=64),  # not what is measured: it holds whatever reaches it
    )
    batch_key = create_key(api_keys.path, key_id="batch", scopes=[ADMIN], max_in_flight=2)
    target = f"127.0.0.1:{host.port}"
    gateway = start_gateway(
        catalog_target=target,
        ingestion_target=target,
        api_keys_file=api_keys.path,
        default_max_in_flight=LIMIT,
    )
    try:
        yield Held(ingestion, gateway, api_keys, batch_key)
    finally:
        ingestion.release.set()
        host.stop(0)


def refusals() -> float:
    value = REGISTRY.get_sample_value("gateway_auth_denied_total", {"reason": "TOO_MANY_IN_FLIGHT"})
    return value or 0.0


def held_or_answered(held: Held, calls: list[grpc.Future], count: int) -> None:
    """Until `count` calls have reached the held backend or been answered (refused, mostly)."""
    eventually(
        lambda: held.backend.held + len(done(calls)) >= count,
        timeout=CALLS_SECONDS,
        interval=0.02,
        what=lambda: f"{count} calls held or answered; {held.backend.held} held, {len(done(calls))} answered",
    )


def done(calls: list[grpc.Future]) -> list[grpc.Future]:
    return [call for call in calls if call.done()]


def test_one_keys_long_calls_leave_the_gateway_to_every_other_caller(
    held: Held, gateway_channel: OpenGatewayChannel
) -> None:
    operator = ipb_grpc.IngestionServiceStub(gateway_channel(held.gateway.target, held.keys.operator))
    reader = cpb_grpc.CatalogServiceStub(gateway_channel(held.gateway.target, held.keys.reader))
    before = refusals()
    slow = GATEWAY_WORKERS + 4

    calls = [operator.RunIngestion.future(ipb.RunIngestionRequest(), timeout=60) for _ in range(slow)]
    # Every call has either reached the backend or been answered, or the gateway's workers are all taken.
    held_or_answered(held, calls, GATEWAY_WORKERS)

    game = reader.GetGame(cpb.GetGameRequest(name="games/7"), timeout=10).game
    assert game.display_name == "fine", "another key's read is answered while the long calls go on"

    held_or_answered(held, calls, slow)
    assert held.backend.held == LIMIT
    refused = done(calls)
    assert len(refused) == slow - LIMIT
    for call in refused:
        details = error_details(call.exception())
        assert (details.code, details.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY_IN_FLIGHT")
        assert details.message == f"operator has {LIMIT} calls in flight, its limit; retry when one ends"
        assert details.retry_after is not None
        assert details.retry_after > 0
        assert details.request_id
    assert refusals() == before + slow - LIMIT

    held.backend.release.set()
    for call in calls:
        if call not in refused:
            assert call.result().run.name == "runs/1"
    # The limit counts calls in flight, not calls made: the key may call again once they end.
    assert operator.RunIngestion(ipb.RunIngestionRequest(), timeout=10).run.name == "runs/1"


def test_a_key_with_its_own_limit_in_the_keys_file(held: Held, gateway_channel: OpenGatewayChannel) -> None:
    batch = ipb_grpc.IngestionServiceStub(gateway_channel(held.gateway.target, held.batch_key))
    operator = ipb_grpc.IngestionServiceStub(gateway_channel(held.gateway.target, held.keys.operator))

    calls = [batch.RunIngestion.future(ipb.RunIngestionRequest(), timeout=60) for _ in range(5)]
    held_or_answered(held, calls, 5)
    assert held.backend.held == 2
    for call in done(calls):
        details = error_details(call.exception())
        assert details.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert details.message.startswith("batch has 2 calls in flight")

    # Each key counts its own calls: the operator's default limit is all its own.
    more = [operator.RunIngestion.future(ipb.RunIngestionRequest(), timeout=60) for _ in range(LIMIT)]
    eventually(
        lambda: held.backend.held == 2 + LIMIT,
        timeout=CALLS_SECONDS,
        interval=0.02,
        what=lambda: f"the operator's calls held beside the batch key's; {held.backend.held} held",
    )
    assert done(more) == []
    held.backend.release.set()
    assert all(call.result().run.name == "runs/1" for call in more)
