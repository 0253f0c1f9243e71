"""IngestionService over real mTLS: runs, the ledger, quarantine paging, accepting a rejected file, access."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from gamekit.call_context import CALLER_HEADER
from gamekit.serving.host import ServiceHost
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as pb
from games.ingestion.v1 import ingestion_pb2_grpc as pb_grpc
from tests.factories.deliveries import app, delivery
from tests.fixtures.catalog import RunningCatalog
from tests.fixtures.ingestion import ended_run
from tests.integration.ingestion.conftest import Put

StubAs = Callable[[str], pb_grpc.IngestionServiceStub]


@pytest.fixture
def service_as(
    start_ingestion_service: Callable[..., ServiceHost],
    catalog: RunningCatalog,
    bucket: str,
    channel_as: Callable[[str, str], grpc.Channel],
) -> StubAs:
    host = start_ingestion_service(bucket=bucket, catalog_target=catalog.target)
    target = f"127.0.0.1:{host.port}"
    return lambda identity: pb_grpc.IngestionServiceStub(channel_as(target, identity))


def test_a_rejected_file_is_read_page_by_page_then_accepted(
    service_as: StubAs, put: Put, gateway: cpb_grpc.CatalogServiceStub
) -> None:
    admin = service_as("gateway")
    bad = {"app_id": "", "name": "nameless"}
    put("a/ios.top100.json", delivery([[app(1), {}, app(2), bad, {}], [app(3), {}]]))
    put("a/broken.json", b"[[{")

    run = ended_run(admin, admin.RunIngestion(pb.RunIngestionRequest()).run.name)
    assert run.state == pb.RUN_STATE_FAILED
    assert run.trigger == pb.RUN_TRIGGER_ADMIN
    assert (run.files_imported, run.files_failed, run.files_rejected) == (0, 0, 2)
    assert run.records_imported == 0, "a rejected file's records are not counted as imported"
    assert run.HasField("end_time")
    assert admin.GetRun(pb.GetRunRequest(name=run.name)).run == run
    assert list(gateway.ListGames(cpb.ListGamesRequest()).games) == [], "nothing published"

    second = ended_run(admin, admin.RunIngestion(pb.RunIngestionRequest()).run.name)
    assert second.state == pb.RUN_STATE_SUCCEEDED, "rejected files are not taken again"
    assert (second.files_skipped, second.files_failed, second.files_rejected) == (2, 0, 0)
    listed = admin.ListRuns(pb.ListRunsRequest(page_size=1))
    assert [r.name for r in listed.runs] == [second.name]
    rest = admin.ListRuns(pb.ListRunsRequest(page_size=1, page_token=listed.next_page_token))
    assert [r.name for r in rest.runs] == [run.name]
    assert rest.next_page_token == ""

    files = {f.key: f for f in admin.ListFiles(pb.ListFilesRequest()).files}
    dirty, broken = files["a/ios.top100.json"], files["a/broken.json"]
    assert dirty.state == broken.state == pb.FILE_STATE_REJECTED
    assert dirty.reject_reason.startswith("4 of 7 records quarantined (57.1%, more than the 5.0% allowed)")
    assert "first reason: empty record" in dirty.reject_reason
    assert dirty.records_quarantined == 4
    assert broken.reject_reason.startswith("truncated")

    seen: list[pb.QuarantinedRecord] = []
    token = ""
    while True:
        page = admin.ListQuarantinedRecords(
            pb.ListQuarantinedRecordsRequest(file=dirty.name, page_size=3, page_token=token)
        )
        seen += page.records
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == 4
    assert all(r.file == dirty.name and r.key == "a/ios.top100.json" and r.reason for r in seen)
    assert sorted(r.position for r in seen) == [1, 3, 4, 6]
    assert seen[0].name == f"{dirty.name}/quarantinedRecords/{seen[0].position}"

    accepted = admin.AcceptFile(
        pb.AcceptFileRequest(name=dirty.name), metadata=[(CALLER_HEADER, "ops-admin")]
    )
    assert accepted.file.state == pb.FILE_STATE_IMPORTED
    assert accepted.file.accepted_by == "ops-admin via spiffe://games.local/gateway"
    assert accepted.file.HasField("accept_time")
    assert accepted.file.reject_reason == ""
    assert (accepted.run.files_imported, accepted.run.records_imported) == (1, 3)
    assert len(gateway.ListGames(cpb.ListGamesRequest()).games) == 3

    with pytest.raises(grpc.RpcError) as again:
        admin.AcceptFile(pb.AcceptFileRequest(name=dirty.name))
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "only a rejected file can be accepted" in (again.value.details() or "")
    still_broken = admin.AcceptFile(pb.AcceptFileRequest(name=broken.name)).file
    assert still_broken.state == pb.FILE_STATE_REJECTED, "accepting cannot make bytes parse"
    assert still_broken.reject_reason.startswith("accepted by spiffe://games.local/gateway, but truncated")

    with pytest.raises(grpc.RpcError) as forged:
        admin.ListQuarantinedRecords(
            pb.ListQuarantinedRecordsRequest(page_token=token + "x" if token else "x")
        )
    assert forged.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as missing:
        admin.GetRun(pb.GetRunRequest(name="runs/999"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as malformed:
        admin.GetRun(pb.GetRunRequest(name="files/1"))
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as no_file:
        admin.AcceptFile(pb.AcceptFileRequest(name="files/999"))
    assert no_file.value.code() == grpc.StatusCode.NOT_FOUND


def test_only_the_gateway_may_call(service_as: StubAs) -> None:
    for identity in ("operator", "catalog", "ingestion"):
        with pytest.raises(grpc.RpcError) as denied:
            service_as(identity).ListRuns(pb.ListRunsRequest())
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert service_as("gateway").ListRuns(pb.ListRunsRequest()).runs == []
