"""`gamectl keys create`: add an API key to a gateway key file and print the key, the only time shown."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from gateway.callers.keys import SCOPES, KeyFileError, create_key

DEFAULT_KEY_FILE = Path(".local") / "keys.json"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `keys create` to gamectl's subcommands."""
    keys = commands.add_parser("keys", help="manage the gateway's API keys")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    create = actions.add_parser(
        "create", help="add a key (or replace one with the same id) and print it once"
    )
    create.add_argument("key_id", metavar="ID", help="the key's id: lowercase letters, digits and '-'")
    create.add_argument(
        "--scope", dest="scopes", action="append", choices=SCOPES, required=True, help="repeat for several"
    )
    create.add_argument("--rps", type=float, default=None, help="the key's own rate limit (calls/second)")
    create.add_argument("--burst", type=int, default=None, help="the key's own burst capacity")
    create.add_argument(
        "--max-in-flight",
        type=int,
        default=None,
        help="the key's own limit of calls in flight at once, per gateway replica",
    )
    create.add_argument(
        "--file", type=Path, default=None, help=f"the key file (default: <root>/{DEFAULT_KEY_FILE})"
    )
    create.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args: argparse.Namespace, *, root: Path) -> int:
    """Run a parsed `keys` command."""
    return create(
        path=args.file or root / DEFAULT_KEY_FILE,
        key_id=args.key_id,
        scopes=args.scopes,
        rps=args.rps,
        burst=args.burst,
        max_in_flight=args.max_in_flight,
        as_json=args.json,
    )


def create(
    *,
    path: Path,
    key_id: str,
    scopes: Sequence[str],
    rps: float | None = None,
    burst: int | None = None,
    max_in_flight: int | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Create the key, print it to `out` (stdout) once, and return the exit status."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        key = create_key(
            path,
            key_id=key_id,
            scopes=scopes,
            rate_limit_rps=rps,
            rate_limit_burst=burst,
            max_in_flight=max_in_flight,
        )
    except (KeyFileError, ValueError, OSError) as exc:
        print(f"gamectl keys create: {exc}", file=err)
        return 1
    if as_json:
        record = {"id": key_id, "key": key, "scopes": sorted(set(scopes)), "file": str(path)}
        print(json.dumps(record), file=out)
    else:
        print(key, file=out)
        print(f"key {key_id!r} written to {path} (only its hash); the key above is not shown again", file=err)
    return 0
