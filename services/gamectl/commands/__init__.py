"""gamectl's query commands: `games`, `ingest` and `imports`, through the gateway.

`register(subparsers)` adds them to gamectl's parser; `run(args)` runs the one parsed. Results go to
stdout as aligned tables, or as protobuf JSON with `--json`. Any failure is one line on stderr,
`error: <CODE>: <message>` (then the field violations, if any), and exit code 1; never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

import grpc
from google.protobuf import json_format

from gamectl.commands import games, imports, ingest
from gamectl.commands.connection import common_options, open_client
from gamectl.commands.console import Console, Handler, Subparsers
from gamectl.commands.tables import clean
from gamekit.status import error_details

COMMANDS = ("games", "ingest", "imports")


def register(subparsers: Subparsers) -> None:
    """Add `games`, `ingest` and `imports` to gamectl's subcommands."""
    common = common_options()
    for module in (games, ingest, imports):
        module.register(subparsers, common)


def describe_rpc_error(error: grpc.RpcError) -> list[str]:
    """The lines to show for a failed call: code and message, then each field violation."""
    if not isinstance(error, grpc.Call):
        return [f"error: {type(error).__name__}"]
    details = error_details(error)
    message = clean(details.message) or "(no message)"
    if details.request_id and details.request_id not in message:
        message += f" (request id {details.request_id})"
    lines = [f"error: {details.code.name}: {message}"]
    lines += [f"  {clean(v.field)}: {clean(v.description)}" for v in details.field_violations]
    if details.retry_after is not None:
        lines.append(f"  retry after {details.retry_after:g}s")
    return lines


def run(args: argparse.Namespace) -> int:
    """Run the parsed query command; 0 on success, 1 with one error line on failure."""
    handler: Handler = args.handler
    console = Console(sys.stdout, sys.stderr)
    try:
        with open_client(args) as client:
            return handler(client, args, console)
    except grpc.RpcError as error:
        print("\n".join(describe_rpc_error(error)), file=console.err)
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (ValueError, OSError, json_format.Error) as error:
        print(f"error: {clean(str(error))}", file=console.err)
    except KeyboardInterrupt:
        return 130
    return 1
