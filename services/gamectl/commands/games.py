"""`gamectl games search|list|get|create|update|delete`."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from gamectl.commands.connection import resource_name
from gamectl.commands.console import Console, Subparsers, add_command
from gamectl.commands.output import add_limit, page_size, write_list, write_one
from gamectl.commands.views import GAMES
from games.catalog.v1 import catalog_pb2 as pb
from gamesclient import GamesClient, platform_value

# Fields a caller never sets; platform and store_id are a game's identity and never change.
OUTPUT_ONLY = frozenset({"name", "etag", "create_time", "update_time", "last_import"})
IDENTITY = frozenset({"platform", "store_id"})
PLATFORMS = ("ios", "android")


def timestamp(value: str) -> Timestamp:
    """An ISO 8601 date or time as a Timestamp; one without a zone is taken as UTC."""
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {value!r}") from None
    stamp = Timestamp()
    stamp.FromDatetime(parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC))
    return stamp


# (field, type, help); the flag is the field's name in kebab case.
GAME_FIELDS: tuple[tuple[str, Any, str], ...] = (
    ("display_name", str, "the game's name as shown"),
    ("platform", str, "ios or android (create only)"),
    ("store_id", str, "the app's id in its store (create only)"),
    ("bundle_id", str, "bundle or package id"),
    ("publisher_name", str, "publisher"),
    ("publisher_id", str, "publisher's id in the store"),
    ("app_version", str, "current version"),
    ("is_published", bool, "published in the store"),
    ("rating", float, "average rating, 0-5"),
    ("rating_count", int, "number of ratings"),
    ("price", float, "price"),
    ("in_app_purchases", bool, "has in-app purchases"),
    ("best_rank", int, "best chart rank"),
    ("categories", list, "a category (repeat for more)"),
    ("release_time", timestamp, "release date (ISO 8601)"),
    ("store_update_time", timestamp, "last store update (ISO 8601)"),
    ("icon_uri", str, "icon URL"),
    ("store_uri", str, "store page URL"),
)


def _add_field_options(parser: argparse.ArgumentParser, *, create: bool) -> None:
    group = parser.add_argument_group("game fields")
    for field, kind, help_text in GAME_FIELDS:
        if field in IDENTITY and not create:
            continue
        flag = "--" + field.replace("_", "-")
        if kind is bool:
            group.add_argument(flag, dest=field, action=argparse.BooleanOptionalAction, help=help_text)
        elif kind is list:
            group.add_argument("--category", dest=field, action="append", metavar="NAME", help=help_text)
        elif field == "platform":
            group.add_argument(flag, dest=field, choices=PLATFORMS, help=help_text)
        else:
            group.add_argument(flag, dest=field, type=kind, help=help_text)
    group.add_argument(
        "--from-json", type=Path, metavar="FILE", help="start from a Game in JSON ('-' for stdin)"
    )


def register(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add `games` and its subcommands."""
    games = subparsers.add_parser("games", help="search, read and change games").add_subparsers(
        dest="games_command", required=True, metavar="COMMAND"
    )
    search = add_command(games, "search", common, search_games, help="search games by name")
    search.add_argument("query", help="part of a name; case and accents do not matter")
    listing = add_command(games, "list", common, search_games, help="list every game")
    for parser in (search, listing):
        parser.add_argument("--platform", choices=PLATFORMS, help="only this platform")
        add_limit(parser)
    get = add_command(games, "get", common, get_game, help="show one game")
    get.add_argument("name", help="games/{id} or just the id")
    create = add_command(games, "create", common, create_game, help="create a game")
    _add_field_options(create, create=True)
    create.add_argument("--request-id", help="UUID making a retry safe (default: a new one)")
    update = add_command(games, "update", common, update_game, help="change the fields given")
    update.add_argument("name", help="games/{id} or just the id")
    update.add_argument("--etag", help="only if the game still has this etag")
    _add_field_options(update, create=False)
    delete = add_command(games, "delete", common, delete_game, help="delete a game")
    delete.add_argument("name", help="games/{id} or just the id")
    delete.add_argument("--etag", help="only if the game still has this etag")


def search_games(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`games search QUERY` and `games list`: a table of games, page by page up to --limit."""
    query = getattr(args, "query", "")
    games = client.iter_games(query, platform=args.platform, page_size=page_size(args.limit))
    write_list(GAMES, games, as_json=args.json, limit=args.limit, out=console.out, err=console.err)
    return 0


def get_game(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`games get NAME`."""
    game = client.catalog.GetGame(pb.GetGameRequest(name=resource_name(args.name, "games"))).game
    write_one(GAMES, game, as_json=args.json, out=console.out)
    return 0


def _read_json(path: Path) -> tuple[pb.Game, list[str]]:
    """A Game from a JSON file and the settable fields it names."""
    text = sys.stdin.read() if str(path) == "-" else path.read_text()
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object (a Game)")
    if "game" in data and isinstance(data["game"], dict):
        data = data["game"]
    game = json_format.ParseDict(data, pb.Game())
    names = {f.json_name: f.name for f in pb.Game.DESCRIPTOR.fields}
    names.update({f.name: f.name for f in pb.Game.DESCRIPTOR.fields})
    return game, [names[key] for key in data]


def _game_from_args(args: argparse.Namespace) -> tuple[pb.Game, list[str]]:
    """The game the options describe and the fields they set (those from --from-json first)."""
    game, paths = _read_json(args.from_json) if args.from_json else (pb.Game(), [])
    for field, _, _ in GAME_FIELDS:
        value = getattr(args, field, None)
        if value is None:
            continue
        if field == "platform":
            game.platform = platform_value(value)
        elif field == "categories":
            game.ClearField("categories")
            game.categories.extend(value)
        elif isinstance(value, Timestamp):
            getattr(game, field).CopyFrom(value)
        else:
            setattr(game, field, value)
        if field not in paths:
            paths.append(field)
    return game, paths


def create_game(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`games create`: the game as created (or as it was, when the request id was seen before)."""
    game, _ = _game_from_args(args)
    request_id = args.request_id or str(uuid.uuid4())
    created = client.catalog.CreateGame(pb.CreateGameRequest(game=game, request_id=request_id)).game
    write_one(GAMES, created, as_json=args.json, out=console.out)
    return 0


def update_game(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`games update NAME`: changes exactly the fields given (options and --from-json)."""
    game, paths = _game_from_args(args)
    etag = args.etag or game.etag
    paths = [p for p in paths if p not in OUTPUT_ONLY | IDENTITY]
    if not paths:
        raise ValueError("nothing to change: give at least one field option or --from-json")
    game.name, game.etag = resource_name(args.name, "games"), etag
    request = pb.UpdateGameRequest(game=game, update_mask=FieldMask(paths=paths))
    write_one(GAMES, client.catalog.UpdateGame(request).game, as_json=args.json, out=console.out)
    return 0


def delete_game(client: GamesClient, args: argparse.Namespace, console: Console) -> int:
    """`games delete NAME`."""
    name = resource_name(args.name, "games")
    client.catalog.DeleteGame(pb.DeleteGameRequest(name=name, etag=args.etag or ""))
    print(json.dumps({"name": name, "deleted": True}) if args.json else f"deleted {name}", file=console.out)
    return 0
