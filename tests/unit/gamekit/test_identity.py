"""Peer identity from certificates, and the access policy."""

from __future__ import annotations

import pytest

from gamectl.certs import create_ca, issue_cert, spiffe_id
from gamekit.security.identity import AccessPolicy, method_of, service_of, spiffe_id_from_pem
from games.catalog.v1 import catalog_pb2

CATALOG = catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"]
GET = "/games.catalog.v1.CatalogService/GetGame"
GATEWAY = spiffe_id("gateway")


def test_spiffe_id_from_pem(dev_pki):
    pem = dev_pki.certs["operator"].cert_file.read_bytes()
    assert spiffe_id_from_pem(pem) == "spiffe://games.local/operator"
    assert spiffe_id_from_pem(b"garbage") is None


def test_pem_without_spiffe_uri_has_no_identity(tmp_path):
    ca_file, ca_key = create_ca(tmp_path)
    issued = issue_cert(ca_file=ca_file, ca_key_file=ca_key, out_dir=tmp_path, name="w", spiffe="https://x/y")
    assert spiffe_id_from_pem(issued.cert_file.read_bytes()) is None


def test_method_names():
    assert service_of(GET) == "games.catalog.v1.CatalogService"
    assert method_of(GET) == "GetGame"


def test_policy_allows_listed_and_denies_the_rest():
    policy = AccessPolicy.of({GET: [GATEWAY]})
    assert policy.allows(GET, GATEWAY, authenticated=True)
    assert not policy.allows(GET, spiffe_id("ingestion"), authenticated=True)
    assert not policy.allows(GET, None, authenticated=True)
    assert not policy.allows("/games.catalog.v1.CatalogService/DeleteGame", GATEWAY, authenticated=True)
    assert not policy.allows(GET, GATEWAY, authenticated=False)


def test_health_and_reflection_are_open_to_any_authenticated_peer():
    policy = AccessPolicy()
    for method in (
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    ):
        assert policy.allows(method, None, authenticated=True)
        assert not policy.allows(method, None, authenticated=False)


def test_for_service_and_merge():
    everything = AccessPolicy.for_service(CATALOG, [GATEWAY])
    assert len(everything.rules) == len(CATALOG.methods)
    ops = AccessPolicy.for_service(CATALOG, [spiffe_id("operator")], methods=["GetGame"])
    merged = everything | ops
    assert merged.rules[GET] == {GATEWAY, spiffe_id("operator")}
    with pytest.raises(ValueError, match="NoSuchMethod"):
        AccessPolicy.for_service(CATALOG, [GATEWAY], methods=["NoSuchMethod"])
