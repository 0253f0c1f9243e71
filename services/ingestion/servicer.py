"""Ingestion's gRPC transport: protos in, runner and ledger calls, protos out.

No business rules live here; errors raised below propagate to gamekit's interceptor, which turns
them into statuses with google.rpc details.
"""

from __future__ import annotations

import threading

import grpc

from gamekit.errors import Aborted
from gamekit.protos import parse_resource_id
from games.ingestion.v1 import ingestion_pb2 as pb
from games.ingestion.v1 import ingestion_pb2_grpc as pb_grpc
from ingestion import converters
from ingestion.ledger import Ledger
from ingestion.model import RunTrigger
from ingestion.runner import Runner


class IngestionServicer(pb_grpc.IngestionServiceServicer):
    """Implements games.ingestion.v1.IngestionService over the runner and the ledger."""

    def __init__(self, *, runner: Runner, ledger: Ledger) -> None:
        self._runner = runner
        self._ledger = ledger
        # One admin run per process at a time; runs of other processes are kept apart by the ledger.
        self._running = threading.Lock()

    def RunIngestion(
        self, request: pb.RunIngestionRequest, context: grpc.ServicerContext
    ) -> pb.RunIngestionResponse:
        if not self._running.acquire(blocking=False):
            raise Aborted(
                "a run started through this service is still going; retry later", reason="RUN_IN_PROGRESS"
            )
        try:
            summary = self._runner.run(RunTrigger.ADMIN)
        finally:
            self._running.release()
        return pb.RunIngestionResponse(run=converters.run_to_proto(summary.run))

    def GetRun(self, request: pb.GetRunRequest, context: grpc.ServicerContext) -> pb.GetRunResponse:
        run_id = parse_resource_id(request.name, collection="runs", field="name")
        return pb.GetRunResponse(run=converters.run_to_proto(self._ledger.get_run(run_id)))

    def ListRuns(self, request: pb.ListRunsRequest, context: grpc.ServicerContext) -> pb.ListRunsResponse:
        page = self._ledger.list_runs(page_size=request.page_size, page_token=request.page_token)
        return pb.ListRunsResponse(
            runs=[converters.run_to_proto(r) for r in page.items], next_page_token=page.next_page_token
        )

    def ListFiles(self, request: pb.ListFilesRequest, context: grpc.ServicerContext) -> pb.ListFilesResponse:
        page = self._ledger.list_files(page_size=request.page_size, page_token=request.page_token)
        return pb.ListFilesResponse(
            files=[converters.file_to_proto(f) for f in page.items], next_page_token=page.next_page_token
        )

    def ListQuarantinedRecords(
        self, request: pb.ListQuarantinedRecordsRequest, context: grpc.ServicerContext
    ) -> pb.ListQuarantinedRecordsResponse:
        page = self._ledger.list_quarantined(
            file_id=converters.file_filter(request.file),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListQuarantinedRecordsResponse(
            records=[converters.quarantined_to_proto(r) for r in page.items],
            next_page_token=page.next_page_token,
        )
