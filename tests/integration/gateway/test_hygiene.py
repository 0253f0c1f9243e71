"""Error hygiene and limits: what a backend failure looks like to a caller, page and message sizes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from google.rpc import status_pb2

from gamectl.certs import DevPki, spiffe_id
from gamekit.security.identity import AccessPolicy
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as ipb
from games.ingestion.v1 import ingestion_pb2_grpc as ipb_grpc
from tests.fixtures.gateway import ApiKeys, OpenGatewayChannel, Platform, RunningGateway, StartGateway
from tests.integration.gateway.backends import start_backend
from tests.integration.gateway.leaky_backend import ABORTS, LEAKS, LeakyCatalog

CATALOG = cpb.DESCRIPTOR.services_by_name["CatalogService"]


@dataclass
class Leaky:
    servicer: LeakyCatalog
    gateway: RunningGateway
    stub: cpb_grpc.CatalogServiceStub


@pytest.fixture
def leaky(
    dev_pki: DevPki, start_gateway: StartGateway, api_keys: ApiKeys, gateway_channel: OpenGatewayChannel
) -> Iterator[Leaky]:
    """A gateway whose catalog (and ingestion) is the LeakyCatalog, on the catalog's certificate."""
    servicer = LeakyCatalog()
    host = start_backend(
        dev_pki,
        "catalog",
        [(CATALOG.full_name, lambda server: cpb_grpc.add_CatalogServiceServicer_to_server(servicer, server))],
        AccessPolicy.for_service(CATALOG, [spiffe_id("gateway")]),
    )
    target = f"127.0.0.1:{host.port}"
    gateway = start_gateway(catalog_target=target, ingestion_target=target, api_keys_file=api_keys.path)
    stub = cpb_grpc.CatalogServiceStub(gateway_channel(gateway.target, api_keys.admin))
    yield Leaky(servicer, gateway, stub)
    host.stop(0)


def everything_a_caller_sees(error: grpc.RpcError) -> str:
    """Details and trailers as text, the call's request id blanked: 32 random hex digits can spell '5432'."""
    assert isinstance(error, grpc.Call)
    seen = [error.details() or ""]
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            seen.append(str(status_pb2.Status.FromString(value)))
        else:
            seen.append(f"{key}={value}")
    text = "\n".join(seen)
    request_id = error_details(error).request_id
    assert request_id, "every error carries its request id"
    return text.replace(request_id, "<request id>")


@pytest.mark.parametrize("mode", [*ABORTS, "crash"])
def test_backend_failures_become_a_generic_internal_with_the_request_id(leaky: Leaky, mode: str) -> None:
    request_id = uuid.uuid4().hex
    with pytest.raises(grpc.RpcError) as failed:
        leaky.stub.GetGame(
            cpb.GetGameRequest(name=f"games/{mode}"), metadata=[("x-request-id", request_id)], timeout=10
        )
    details = error_details(failed.value)
    assert details.code == grpc.StatusCode.INTERNAL
    assert details.message == f"internal error (request id {request_id})"
    assert details.request_id == request_id
    seen = everything_a_caller_sees(failed.value)
    assert [leak for leak in LEAKS if leak in seen] == []


def test_unimplemented_backend_method_is_internal_too(
    leaky: Leaky, gateway_channel, api_keys: ApiKeys
) -> None:
    # The leaky host serves no IngestionService: a deployment mistake, not the caller's business.
    stub = ipb_grpc.IngestionServiceStub(gateway_channel(leaky.gateway.target, api_keys.admin))
    with pytest.raises(grpc.RpcError) as failed:
        stub.ListRuns(ipb.ListRunsRequest(), timeout=10)
    assert error_details(failed.value).code == grpc.StatusCode.INTERNAL


def test_expected_backend_errors_keep_their_details_but_no_debug_info(leaky: Leaky) -> None:
    with pytest.raises(grpc.RpcError) as invalid:
        leaky.stub.GetGame(cpb.GetGameRequest(name="games/rich-invalid"), timeout=10)
    details = error_details(invalid.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.description) for v in details.field_violations] == [("name", "must be games/{id}")]
    assert [leak for leak in LEAKS if leak in everything_a_caller_sees(invalid.value)] == []


def test_a_backend_deadline_exceeded_passes_through_with_its_reason(leaky: Leaky) -> None:
    with pytest.raises(grpc.RpcError) as late:
        leaky.stub.GetGame(cpb.GetGameRequest(name="games/deadline"), timeout=10)
    details = error_details(late.value)
    assert (details.code, details.reason) == (grpc.StatusCode.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED")
    assert details.message == "the deadline passed"


def test_real_catalog_invalid_argument_passes_through_with_field_violations(
    platform: Platform, gateway_channel: OpenGatewayChannel
) -> None:
    stub = cpb_grpc.CatalogServiceStub(gateway_channel(platform.gateway.target, platform.keys.writer))
    request_id = uuid.uuid4().hex
    with pytest.raises(grpc.RpcError) as invalid:
        stub.CreateGame(
            cpb.CreateGameRequest(
                game=cpb.Game(display_name="No store id", platform=cpb.PLATFORM_IOS),
                request_id=str(uuid.uuid4()),
            ),
            metadata=[("x-request-id", request_id)],
            timeout=10,
        )
    details = error_details(invalid.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.reason
    assert {v.field for v in details.field_violations} >= {"game.store_id"}
    assert details.request_id == request_id  # the catalog saw the caller's request id
    assert details.metadata.get("request_id") == request_id


def test_page_size_above_the_maximum_is_refused_before_forwarding(leaky: Leaky) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        leaky.stub.ListGames(cpb.ListGamesRequest(page_size=1001), timeout=10)
    details = error_details(refused.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in details.field_violations] == ["page_size"]
    leaky.stub.ListGames(cpb.ListGamesRequest(page_size=1000), timeout=10)
    assert leaky.servicer.page_sizes == [1000]


def test_messages_above_the_maximum_are_refused(leaky: Leaky) -> None:
    game = cpb.Game(display_name="x" * (2 * 1024 * 1024), platform=cpb.PLATFORM_IOS, store_id="1")
    with pytest.raises(grpc.RpcError) as refused:
        leaky.stub.CreateGame(cpb.CreateGameRequest(game=game), timeout=10)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    small = cpb.Game(display_name="x" * 1000, platform=cpb.PLATFORM_IOS, store_id="1")
    assert leaky.stub.CreateGame(cpb.CreateGameRequest(game=small), timeout=10).game == small
