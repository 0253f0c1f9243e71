"""`gamectl health HOST:PORT...`: ask plaintext health ports whether each service is SERVING.

The chart's `helm test` pod runs it against every Service; an SRE can run it through a port-forward.
Exit 0 when every target answers SERVING, 1 otherwise, with one line per target.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `health` to gamectl's subcommands."""
    health = commands.add_parser("health", help="check plaintext health ports (exit 0 if all SERVING)")
    health.add_argument("targets", metavar="HOST:PORT", nargs="+", help="health-only ports to ask")
    health.add_argument("--service", default="", help="service name to ask about (default: the whole server)")
    health.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each answer")


def status_of(target: str, *, service: str = "", timeout: float = 5.0) -> str:
    """SERVING, NOT_SERVING... as the target reports it, or why it could not be asked."""
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout, wait_for_ready=True
            )
        except grpc.RpcError as error:
            return f"unreachable ({error.code().name})"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def check(
    targets: Sequence[str], *, service: str = "", timeout: float = 5.0, out: TextIO | None = None
) -> int:
    """Print each target's status (to stdout unless `out`); 0 if all are SERVING."""
    out = out or sys.stdout
    healthy = True
    for target in targets:
        status = status_of(target, service=service, timeout=timeout)
        healthy = healthy and status == "SERVING"
        print(f"{target} {status}", file=out)
    return 0 if healthy else 1


def run(args: argparse.Namespace) -> int:
    """Run a parsed `health` command."""
    return check(args.targets, service=args.service, timeout=args.timeout)
