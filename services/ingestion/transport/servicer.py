"""Ingestion's gRPC transport: protos in, runner and ledger calls, protos out.

No business rules live here; errors raised below propagate to gamekit's interceptor, which turns
them into statuses with google.rpc details. RunIngestion answers once its run has begun (the run goes
on in `ingestion.runs.background`); AcceptFile imports its one file within the call.
"""

from __future__ import annotations

import grpc

from gamekit.call_context import CALLER_HEADER, current_peer
from gamekit.resource_names import parse_resource_id
from games.ingestion.v1 import ingestion_pb2 as pb
from games.ingestion.v1 import ingestion_pb2_grpc as pb_grpc
from ingestion.ledger.store import Ledger
from ingestion.model import RunTrigger
from ingestion.runs.background import BackgroundRuns
from ingestion.runs.runner import Runner
from ingestion.transport import converters


class IngestionServicer(pb_grpc.IngestionServiceServicer):
    """Implements games.ingestion.v1.IngestionService over the runner, its background runs and the ledger."""

    def __init__(self, *, runner: Runner, runs: BackgroundRuns, ledger: Ledger) -> None:
        self._runner = runner
        self._runs = runs
        self._ledger = ledger

    def RunIngestion(
        self, request: pb.RunIngestionRequest, context: grpc.ServicerContext
    ) -> pb.RunIngestionResponse:
        run = self._runs.start(RunTrigger.ADMIN)
        return pb.RunIngestionResponse(run=converters.run_to_proto(run))

    def AcceptFile(
        self, request: pb.AcceptFileRequest, context: grpc.ServicerContext
    ) -> pb.AcceptFileResponse:
        file_id = converters.file_id(request.name)
        with self._runs.exclusive():
            summary, entry = self._runner.accept(file_id, accepted_by=_accepter(context))
        return pb.AcceptFileResponse(
            file=converters.file_to_proto(entry), run=converters.run_to_proto(summary.run)
        )

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


def _accepter(context: grpc.ServicerContext) -> str:
    """Who accepts: the gateway's caller (only gateway identities may call this service), and its peer."""
    peer = current_peer() or "an unidentified peer"
    callers = [str(v) for k, v in context.invocation_metadata() or () if k == CALLER_HEADER]
    return f"{callers[0][:200]} via {peer}" if callers else peer
