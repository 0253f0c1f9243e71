"""Client channels: deadline and request id propagate to the next hop; UNAVAILABLE is retried when safe."""

from __future__ import annotations

import grpc
import pytest

from gamekit.clients.channels import secure_channel
from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from tests.integration.gamekit.conftest import settings_for
from tests.integration.gamekit.servicers import GET_GAME, FakeCatalog


def test_deadline_and_request_id_reach_the_next_hop(start_host, open_channel, dev_pki):
    backend = start_host()
    catalog = dev_pki.certs["catalog"]
    downstream = secure_channel(
        f"127.0.0.1:{backend.port}",
        ca_file=dev_pki.ca_file,
        cert_file=catalog.cert_file,
        key_file=catalog.key_file,
    )
    try:
        front = start_host(FakeCatalog(downstream=downstream), settings=settings_for(dev_pki, "catalog"))
        stub = catalog_pb2_grpc.CatalogServiceStub(open_channel(front.port))
        response = stub.GetGame(
            catalog_pb2.GetGameRequest(name="games/forward"), timeout=2, metadata=[("x-request-id", "req-7")]
        )
    finally:
        downstream.close()
    # The front asked for 30 s; the backend saw what was left of the caller's 2 s.
    assert 0 < float(response.game.display_name) <= 2.0
    assert response.game.publisher_name == "req-7"


def test_unavailable_is_retried_on_idempotent_methods_only(start_host, open_channel):
    servicer = FakeCatalog(fail_first=2)
    host = start_host(servicer)
    stub = catalog_pb2_grpc.CatalogServiceStub(open_channel(host.port, idempotent_methods=[GET_GAME]))
    response = stub.GetGame(catalog_pb2.GetGameRequest(name="games/flaky"), timeout=5)
    assert response.game.name == "games/flaky"
    assert servicer.calls["games/flaky"] == 3
    with pytest.raises(grpc.RpcError) as caught:
        stub.DeleteGame(catalog_pb2.DeleteGameRequest(name="games/1"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert servicer.calls["delete"] == 1
