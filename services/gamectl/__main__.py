"""gamectl: the human CLI of the games platform."""

from __future__ import annotations

import argparse
from pathlib import Path

from gamectl import commands, health, keys, up
from gamectl.certs import ensure_dev_pki


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="gamectl", description=__doc__)
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="repository root (default: here)")
    subcommands = parser.add_subparsers(dest="command", required=True)
    subcommands.add_parser("up", help="run the whole platform locally until Ctrl-C")
    certs = subcommands.add_parser(
        "certs", help="create the dev CA and service certificates under .local/certs"
    )
    certs.add_argument("--dir", type=Path, default=None, help="where to write them")
    commands.register(subcommands)
    keys.add_commands(subcommands)
    health.add_command(subcommands)
    args = parser.parse_args(argv)
    if args.command in commands.COMMANDS:
        return commands.run(args)
    if args.command == "keys":
        return keys.run(args, root=args.root)
    if args.command == "health":
        return health.run(args)
    if args.command == "up":
        return up.run(args.root)
    pki = ensure_dev_pki(args.dir or args.root / ".local" / "certs")
    for name, cert in sorted(pki.certs.items()):
        print(f"{name:10} {cert.spiffe_id:40} {cert.cert_file}")
    print(f"{'ca':10} {'':40} {pki.ca_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
