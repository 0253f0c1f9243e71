"""The options every query command shares, and the client they describe.

By default a command reads `.local/suite.json` (written by `make up`): the gateway's address, the
dev CA, the operator's client certificate and the API keys by name. Each piece can be given instead:
`--target`, `--ca`, `--tls-cert/--tls-key`, and `--key` as a name from the suite or the key itself.
Without a suite file, `--target` and `--ca` are required and no key is sent unless `--key` is given.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gamesclient import GamesClient, SuiteError, connect, load_suite
from gamesclient.suite import DEFAULT_SUITE, SuiteInfo

DEFAULT_KEY = "admin"
KEY_ENV = "GAMECTL_KEY"
DEFAULT_TIMEOUT = 10.0


def common_options() -> argparse.ArgumentParser:
    """A parent parser with the connection options and --json, for every query command."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--json", action="store_true", help="print protobuf JSON instead of a table")
    group = parent.add_argument_group("connection")
    group.add_argument(
        "--suite",
        type=Path,
        default=None,
        metavar="PATH",
        help="suite file (default: <root>/.local/suite.json)",
    )
    group.add_argument(
        "--key",
        default=None,
        metavar="NAME|KEY",
        help=f"API key: a name from the suite (admin, reader) or the key itself "
        f"(default: ${KEY_ENV}, else {DEFAULT_KEY})",
    )
    group.add_argument(
        "--target", default=None, metavar="HOST:PORT", help="gateway host:port (default: the suite's gateway)"
    )
    group.add_argument(
        "--ca", type=Path, default=None, metavar="FILE", help="CA bundle to trust (default: the suite's)"
    )
    group.add_argument(
        "--tls-cert", type=Path, default=None, metavar="FILE", help="client certificate to present"
    )
    group.add_argument(
        "--tls-key", type=Path, default=None, metavar="FILE", help="key of the client certificate"
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help=f"seconds per call (default: {DEFAULT_TIMEOUT:g})",
    )
    return parent


def _suite(args: argparse.Namespace) -> SuiteInfo | None:
    path: Path | None = args.suite
    if path is None:
        path = Path(getattr(args, "root", None) or Path.cwd()) / DEFAULT_SUITE
        if args.target and args.ca and not path.exists():
            return None
    return load_suite(path)


def open_client(args: argparse.Namespace) -> GamesClient:
    """A client for the target, TLS files and key the options (or the suite file) name."""
    suite = _suite(args)
    if (args.tls_cert is None) != (args.tls_key is None):
        raise SuiteError("give --tls-cert and --tls-key together")
    ca = args.ca or (suite.ca_file if suite else None)
    if ca is None:
        raise SuiteError("no CA file: pass --ca")
    if args.tls_cert is not None:
        cert, key = args.tls_cert, args.tls_key
    elif suite is not None and suite.client_cert and suite.client_key:
        cert, key = suite.client_cert, suite.client_key
    else:
        cert = key = None
    key_option = args.key or os.environ.get(KEY_ENV)
    # Without a suite there are no key names, and no default key: a cert-only caller sends none.
    api_key = suite.api_key(key_option or DEFAULT_KEY) if suite is not None else key_option or ""
    target = args.target or (suite.address("gateway") if suite else "")
    return connect(
        target,
        api_key=api_key,
        ca_file=ca,
        cert_file=cert,
        key_file=key,
        timeout=args.timeout or DEFAULT_TIMEOUT,
    )


def resource_name(value: str, collection: str) -> str:
    """`12` or `games/12` as `games/12`; anything with a slash is passed on as given."""
    return value if "/" in value else f"{collection}/{value}"
