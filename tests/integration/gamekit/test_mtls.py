"""mTLS and identity on the business port; the plaintext port serves health only."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from gamectl.certs import create_ca, issue_cert
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from tests.integration.gamekit.servicers import SERVICE

REQUEST = catalog_pb2.GetGameRequest(name="games/1")


def test_allowed_identity_calls_over_mtls(start_host, open_channel):
    host = start_host()
    stub = catalog_pb2_grpc.CatalogServiceStub(open_channel(host.port, "gateway"))
    response, call = stub.GetGame.with_call(REQUEST, timeout=5)
    assert response.game.display_name == "Pokémon GO"
    assert dict(call.trailing_metadata())["x-request-id"]


def test_caller_request_id_is_echoed(start_host, open_channel):
    host = start_host()
    stub = catalog_pb2_grpc.CatalogServiceStub(open_channel(host.port))
    _, call = stub.GetGame.with_call(REQUEST, timeout=5, metadata=[("x-request-id", "req-42")])
    assert dict(call.trailing_metadata())["x-request-id"] == "req-42"


def test_plaintext_client_is_refused(start_host):
    host = start_host()
    with grpc.insecure_channel(f"127.0.0.1:{host.port}") as channel, pytest.raises(grpc.RpcError) as caught:
        catalog_pb2_grpc.CatalogServiceStub(channel).GetGame(REQUEST, timeout=2)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_client_cert_from_unknown_ca_is_refused(start_host, open_channel, dev_pki, tmp_path):
    host = start_host()
    rogue_ca, rogue_key = create_ca(tmp_path, common_name="rogue CA")
    rogue = issue_cert(ca_file=rogue_ca, ca_key_file=rogue_key, out_dir=tmp_path, name="gateway")
    channel = open_channel(
        host.port, ca_file=dev_pki.ca_file, cert_file=rogue.cert_file, key_file=rogue.key_file
    )
    with pytest.raises(grpc.RpcError) as caught:
        catalog_pb2_grpc.CatalogServiceStub(channel).GetGame(REQUEST, timeout=2)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_identity_not_in_policy_is_denied(start_host, open_channel):
    host = start_host()
    stub = catalog_pb2_grpc.CatalogServiceStub(open_channel(host.port, "ingestion"))
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetGame(REQUEST, timeout=5)
    details = error_details(caught.value)
    assert details.code == grpc.StatusCode.PERMISSION_DENIED
    assert details.reason == "PERMISSION_DENIED"
    assert "spiffe://games.local/ingestion" in details.message


def test_operator_reaches_health_and_reflection_but_not_business(start_host, open_channel):
    host = start_host()
    channel = open_channel(host.port, "operator")
    check = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=SERVICE), timeout=5
    )
    assert check.status == health_pb2.HealthCheckResponse.SERVING
    services = ProtoReflectionDescriptorDatabase(channel).get_services()
    assert SERVICE in services
    assert "grpc.health.v1.Health" in services
    with pytest.raises(grpc.RpcError) as caught:
        catalog_pb2_grpc.CatalogServiceStub(channel).GetGame(REQUEST, timeout=5)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_plaintext_port_serves_only_health(start_host):
    host = start_host()
    with grpc.insecure_channel(f"127.0.0.1:{host.health_port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", SERVICE):
            response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert response.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as caught:
            catalog_pb2_grpc.CatalogServiceStub(channel).GetGame(REQUEST, timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
