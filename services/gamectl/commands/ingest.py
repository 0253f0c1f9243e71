"""`gamectl ingest run|runs|files|quarantine|accept`."""

from __future__ import annotations

import argparse
import time

from gamectl.commands.connection import resource_name
from gamectl.commands.console import Console, Subparsers, add_command
from gamectl.commands.output import add_limit, page_size, write_list, write_one
from gamectl.commands.views import FILES, QUARANTINE, RUNS
from games.ingestion.v1 import ingestion_pb2 as pb
from gamesclient import GamesClient

# AcceptFile imports its file before it answers.
RUN_TIMEOUT = 900.0
# RunIngestion answers once its run has begun; `ingest run` follows it with GetRun, this long at most.
RUN_WAIT = 3600.0
POLL_FIRST, POLL_MAX = 0.2, 2.0


def register(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add `ingest` and its subcommands."""
    ingest = subparsers.add_parser("ingest", help="run ingestion and read its ledger").add_subparsers(
        dest="ingest_command", required=True, metavar="COMMAND"
    )
    run = add_command(
        ingest, "run", common, run_ingestion, help="ingest every new file now; show the run when it ends"
    )
    run.add_argument(
        "--wait",
        type=_positive,
        default=RUN_WAIT,
        metavar="SECONDS",
        help=f"follow the run this long at most (default: {RUN_WAIT:g})",
    )
    runs = add_command(ingest, "runs", common, list_runs, help="list runs, newest first, or show one")
    runs.add_argument("name", nargs="?", help="runs/{id} or just the id: show this run")
    add_limit(runs)
    files = add_command(ingest, "files", common, list_files, help="list the files ingestion has seen")
    add_limit(files)
    quarantine = add_command(
        ingest, "quarantine", common, list_quarantined, help="list quarantined records and why"
    )
    quarantine.add_argument("--file", help="only records of this file (files/{id} or the id)")
    add_limit(quarantine)
    accept = add_command(
        ingest, "accept", common, accept_file, help="publish a rejected file anyway; show the file"
    )
    accept.add_argument("name", help="files/{id} or just the id: a rejected file")


def run_ingestion(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`ingest run`: starts a run, polls GetRun until it ends (up to --wait); exit 1 unless it succeeded."""
    run = client.ingestion.RunIngestion(pb.RunIngestionRequest()).run
    deadline, pause = time.monotonic() + args.wait, POLL_FIRST
    while run.state == pb.RUN_STATE_RUNNING and time.monotonic() < deadline:
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, POLL_MAX)
        run = client.ingestion.GetRun(pb.GetRunRequest(name=run.name)).run
    write_one(RUNS, run, as_json=args.json, out=console.out)
    if run.state == pb.RUN_STATE_RUNNING:
        print(
            f"{run.name} is still running after {args.wait:g}s; `gamectl ingest runs {run.name}` shows it",
            file=console.err,
        )
    return 0 if run.state == pb.RUN_STATE_SUCCEEDED else 1


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def list_runs(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`ingest runs [NAME]`."""
    if args.name:
        run = client.ingestion.GetRun(pb.GetRunRequest(name=resource_name(args.name, "runs"))).run
        write_one(RUNS, run, as_json=args.json, out=console.out)
        return 0
    runs = client.iter_runs(page_size=page_size(args.limit))
    write_list(RUNS, runs, as_json=args.json, limit=args.limit, out=console.out, err=console.err)
    return 0


def list_files(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`ingest files`."""
    files = client.iter_files(page_size=page_size(args.limit))
    write_list(FILES, files, as_json=args.json, limit=args.limit, out=console.out, err=console.err)
    return 0


def list_quarantined(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`ingest quarantine [--file FILE]`."""
    file = resource_name(args.file, "files") if args.file else ""
    records = client.iter_quarantined(file, page_size=page_size(args.limit))
    write_list(QUARANTINE, records, as_json=args.json, limit=args.limit, out=console.out, err=console.err)
    return 0


def accept_file(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`ingest accept NAME`: imports the file (waits like `run`); exit 1 if it is still rejected."""
    request = pb.AcceptFileRequest(name=resource_name(args.name, "files"))
    file = client.ingestion.AcceptFile(request, timeout=args.timeout or RUN_TIMEOUT).file
    write_one(FILES, file, as_json=args.json, out=console.out)
    return 0 if file.state == pb.FILE_STATE_IMPORTED else 1
