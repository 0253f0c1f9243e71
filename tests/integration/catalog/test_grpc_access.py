"""Who may call the catalog: only the gateway and ingestion, each for its own methods, over mTLS."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from gamectl.certs import DevPki, ensure_dev_pki
from gamekit.clients.channels import secure_channel
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from tests.fixtures.catalog import CatalogStubAs, RunningCatalog


def test_gateway_reads_and_writes_ingestion_only_reads(catalog_as: CatalogStubAs) -> None:
    game = pb.Game(display_name="Game", platform=pb.PLATFORM_IOS, store_id="1")
    catalog_as("gateway").CreateGame(pb.CreateGameRequest(game=game, request_id=str(uuid.uuid4())))
    assert len(catalog_as("ingestion").ListGames(pb.ListGamesRequest()).games) == 1

    with pytest.raises(grpc.RpcError) as denied:
        catalog_as("ingestion").CreateGame(pb.CreateGameRequest(game=game, request_id=str(uuid.uuid4())))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_imports_only_from_ingestion(catalog_as: CatalogStubAs) -> None:
    header = pb.ImportGamesRequest(
        header=pb.ImportHeader(source=pb.ImportSource(bucket="b", key="k", etag="e"))
    )
    with pytest.raises(grpc.RpcError) as denied:
        catalog_as("gateway").ImportGames(iter([header]))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    commit = pb.ImportGamesRequest(commit=pb.ImportCommit(game_count=0))
    assert catalog_as("ingestion").ImportGames(iter([header, commit])).import_record.received_count == 0


@pytest.mark.parametrize("identity", ["operator", "catalog"])
def test_other_identities_are_denied_every_catalog_method(catalog_as: CatalogStubAs, identity: str) -> None:
    stub = catalog_as(identity)
    calls: list[Callable[[], object]] = [
        lambda: stub.GetGame(pb.GetGameRequest(name="games/1")),
        lambda: stub.ListGames(pb.ListGamesRequest()),
        lambda: stub.SearchGames(pb.SearchGamesRequest(query="poke")),
        lambda: stub.ListImports(pb.ListImportsRequest()),
        lambda: stub.RollbackImport(pb.RollbackImportRequest(name="imports/1")),
        lambda: next(iter(stub.WatchRevision(pb.WatchRevisionRequest()))),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as denied:
            call()
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_operator_sees_health_and_reflection(
    catalog: RunningCatalog, channel_as: Callable[[str, str], grpc.Channel]
) -> None:
    channel = channel_as(catalog.target, "operator")
    health = health_pb2_grpc.HealthStub(channel)
    reply = health.Check(health_pb2.HealthCheckRequest(service="games.catalog.v1.CatalogService"), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answers = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for s in next(iter(answers)).list_services_response.service}
    assert "games.catalog.v1.CatalogService" in names


def test_plaintext_is_refused_and_plaintext_port_serves_only_health(catalog: RunningCatalog) -> None:
    with grpc.insecure_channel(catalog.target) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            pb_grpc.CatalogServiceStub(channel).ListGames(pb.ListGamesRequest(), timeout=3)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

    with grpc.insecure_channel(f"127.0.0.1:{catalog.host.health_port}") as probe:
        reply = health_pb2_grpc.HealthStub(probe).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as missing:
            pb_grpc.CatalogServiceStub(probe).ListGames(pb.ListGamesRequest(), timeout=3)
        assert missing.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_certificate_from_another_ca_is_refused(
    catalog: RunningCatalog, dev_pki: DevPki, tmp_path: Path
) -> None:
    stranger = ensure_dev_pki(tmp_path / "other-ca").certs["gateway"]
    channel = secure_channel(
        catalog.target, ca_file=dev_pki.ca_file, cert_file=stranger.cert_file, key_file=stranger.key_file
    )
    with channel, pytest.raises(grpc.RpcError) as refused:
        pb_grpc.CatalogServiceStub(channel).ListGames(pb.ListGamesRequest(), timeout=3)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
