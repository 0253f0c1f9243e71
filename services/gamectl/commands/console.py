"""What a command handler is given and how commands are declared."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TypeAlias

from gamesclient import GamesClient

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True)
class Console:
    """Where a command writes: results to `out`, notes to `err`."""

    out: IO[str]
    err: IO[str]


Handler = Callable[[GamesClient, argparse.Namespace, Console], int]


def add_command(
    subparsers: Subparsers,
    name: str,
    common: argparse.ArgumentParser,
    handler: Handler,
    *,
    help: str,
) -> argparse.ArgumentParser:
    """A subcommand with the shared options, run by `handler` with a connected client."""
    parser = subparsers.add_parser(name, parents=[common], help=help, description=help)
    parser.set_defaults(handler=handler)
    return parser
