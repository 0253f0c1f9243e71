"""`gamectl imports list|get|rollback`."""

from __future__ import annotations

import argparse

from gamectl.commands.connection import resource_name
from gamectl.commands.console import Console, Subparsers, add_command
from gamectl.commands.output import add_limit, page_size, write_list, write_one
from gamectl.commands.views import IMPORTS
from games.catalog.v1 import catalog_pb2 as pb
from gamesclient import GamesClient


def register(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add `imports` and its subcommands."""
    imports = subparsers.add_parser("imports", help="catalog import history and rollback").add_subparsers(
        dest="imports_command", required=True, metavar="COMMAND"
    )
    listing = add_command(imports, "list", common, list_imports, help="list imports, newest first")
    add_limit(listing)
    get = add_command(imports, "get", common, get_import, help="show one import")
    get.add_argument("name", help="imports/{id} or just the id")
    rollback = add_command(
        imports, "rollback", common, rollback_import, help="restore the games an import changed"
    )
    rollback.add_argument("name", help="imports/{id} or just the id")


def list_imports(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`imports list`."""
    imports = client.iter_imports(page_size=page_size(args.limit))
    write_list(IMPORTS, imports, as_json=args.json, limit=args.limit, out=console.out, err=console.err)
    return 0


def get_import(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`imports get NAME`."""
    request = pb.GetImportRequest(name=resource_name(args.name, "imports"))
    write_one(IMPORTS, client.catalog.GetImport(request).import_record, as_json=args.json, out=console.out)
    return 0


def rollback_import(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`imports rollback NAME`: the import, now rolled back."""
    request = pb.RollbackImportRequest(name=resource_name(args.name, "imports"))
    record = client.catalog.RollbackImport(request).import_record
    write_one(IMPORTS, record, as_json=args.json, out=console.out)
    return 0
