"""IngestionService over real mTLS: RunIngestion, GetRun, ListRuns, ListFiles, quarantine paging, access."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from gamekit.server import ServiceHost
from games.ingestion.v1 import ingestion_pb2 as pb
from games.ingestion.v1 import ingestion_pb2_grpc as pb_grpc
from tests.factories.deliveries import app, delivery
from tests.fixtures.catalog import RunningCatalog
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


def test_run_ingestion_then_read_the_ledger_page_by_page(service_as: StubAs, put: Put) -> None:
    gateway = service_as("gateway")
    bad = {"app_id": "", "name": "nameless"}
    put("a/ios.top100.json", delivery([[app(1), {}, app(2), bad, {}], [app(3), {}]]))
    put("a/broken.json", b"[[{")

    run = gateway.RunIngestion(pb.RunIngestionRequest()).run
    assert run.state == pb.RUN_STATE_FAILED
    assert run.trigger == pb.RUN_TRIGGER_ADMIN
    assert (run.files_imported, run.files_failed, run.records_imported) == (1, 1, 3)
    assert run.records_quarantined == 4
    assert run.HasField("end_time")
    assert gateway.GetRun(pb.GetRunRequest(name=run.name)).run == run

    second = gateway.RunIngestion(pb.RunIngestionRequest()).run
    assert (second.files_skipped, second.files_failed) == (1, 1)
    listed = gateway.ListRuns(pb.ListRunsRequest(page_size=1))
    assert [r.name for r in listed.runs] == [second.name]
    rest = gateway.ListRuns(pb.ListRunsRequest(page_size=1, page_token=listed.next_page_token))
    assert [r.name for r in rest.runs] == [run.name]
    assert rest.next_page_token == ""

    files = {f.key: f for f in gateway.ListFiles(pb.ListFilesRequest()).files}
    assert files["a/ios.top100.json"].state == pb.FILE_STATE_IMPORTED
    assert files["a/ios.top100.json"].catalog_import.startswith("imports/")
    assert files["a/broken.json"].state == pb.FILE_STATE_FAILED
    assert files["a/broken.json"].error

    good = files["a/ios.top100.json"].name
    seen: list[pb.QuarantinedRecord] = []
    token = ""
    while True:
        page = gateway.ListQuarantinedRecords(
            pb.ListQuarantinedRecordsRequest(file=good, page_size=3, page_token=token)
        )
        seen += page.records
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == 4
    assert all(r.file == good and r.key == "a/ios.top100.json" and r.reason for r in seen)
    assert sorted(r.position for r in seen) == [1, 3, 4, 6]
    assert seen[0].name == f"{good}/quarantinedRecords/{seen[0].position}"

    with pytest.raises(grpc.RpcError) as forged:
        gateway.ListQuarantinedRecords(
            pb.ListQuarantinedRecordsRequest(page_token=token + "x" if token else "x")
        )
    assert forged.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as missing:
        gateway.GetRun(pb.GetRunRequest(name="runs/999"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as malformed:
        gateway.GetRun(pb.GetRunRequest(name="files/1"))
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_only_the_gateway_may_call(service_as: StubAs) -> None:
    for identity in ("operator", "catalog", "ingestion"):
        with pytest.raises(grpc.RpcError) as denied:
            service_as(identity).ListRuns(pb.ListRunsRequest())
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert service_as("gateway").ListRuns(pb.ListRunsRequest()).runs == []
