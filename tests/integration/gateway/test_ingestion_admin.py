"""An operator's day through the gateway: a rejected file, its quarantine, accepting it, and who did."""

from __future__ import annotations

import grpc
import pytest

from gamekit.call_context import CALLER_HEADER
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as ipb
from games.ingestion.v1 import ingestion_pb2_grpc as ipb_grpc
from tests.factories.deliveries import app, delivery
from tests.fixtures.gateway import OpenGatewayChannel, Platform
from tests.fixtures.ingestion import ended_run


def test_a_rejected_file_is_accepted_through_the_gateway_and_the_ledger_names_the_key(
    platform: Platform, gateway_channel: OpenGatewayChannel, s3_client
) -> None:
    target = platform.gateway.target
    admin = ipb_grpc.IngestionServiceStub(gateway_channel(target, platform.keys.operator))
    reader = ipb_grpc.IngestionServiceStub(gateway_channel(target, platform.keys.reader))
    games = cpb_grpc.CatalogServiceStub(gateway_channel(target, platform.keys.reader))
    body = delivery([[app(1)], [app(2)], [{"name": "lost its id", "os": "ios"}]])
    s3_client.put_object(Bucket=platform.bucket, Key="2026-12-04/ios.top100.json", Body=body)

    started = admin.RunIngestion(ipb.RunIngestionRequest(), timeout=10).run
    assert started.state == ipb.RUN_STATE_RUNNING, "answered at once: the caller polls GetRun"
    run = ended_run(admin, started.name)
    assert (run.state, run.files_rejected) == (ipb.RUN_STATE_FAILED, 1)
    (file,) = admin.ListFiles(ipb.ListFilesRequest(), timeout=10).files
    assert file.state == ipb.FILE_STATE_REJECTED
    assert file.reject_reason.startswith("1 of 3 records quarantined")
    assert list(games.ListGames(cpb.ListGamesRequest(), timeout=10).games) == []

    with pytest.raises(grpc.RpcError) as denied:
        reader.AcceptFile(ipb.AcceptFileRequest(name=file.name), timeout=10)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # A caller cannot name someone else: the gateway sends who it authenticated, not what it was told.
    accepted = admin.AcceptFile(
        ipb.AcceptFileRequest(name=file.name), metadata=[(CALLER_HEADER, "someone-else")], timeout=30
    )
    assert accepted.file.state == ipb.FILE_STATE_IMPORTED
    assert accepted.file.accepted_by == "operator via spiffe://games.local/gateway"
    assert len(games.ListGames(cpb.ListGamesRequest(), timeout=10).games) == 2
