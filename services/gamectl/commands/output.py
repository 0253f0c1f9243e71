"""Writing results: aligned tables for people, protobuf JSON (`--json`) for scripts."""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Iterable
from typing import IO, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from gamectl.commands.tables import render_record, render_table
from gamectl.commands.views import View

M = TypeVar("M", bound=Message)
T = TypeVar("T")
DEFAULT_LIMIT = 100
MAX_PAGE_SIZE = 100


def add_limit(parser: argparse.ArgumentParser) -> None:
    """Add `--limit N` to a listing command."""
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help="at most this many (0: all)")


def page_size(limit: int) -> int:
    """The page size for a listing cut at `limit`: one more, so `take` can tell whether more are left."""
    return min(limit + 1, MAX_PAGE_SIZE) if limit > 0 else MAX_PAGE_SIZE


def to_json(message: Message) -> object:
    """A message as its canonical proto3 JSON value (camelCase names, enums by name)."""
    return json_format.MessageToDict(message)


def dumps(value: object) -> str:
    """JSON text, indented, non-ASCII kept readable."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def take(items: Iterable[T], limit: int) -> tuple[list[T], bool]:
    """At most `limit` items (all when 0) and whether more were left behind."""
    if limit <= 0:
        return list(items), False
    taken = list(itertools.islice(items, limit + 1))
    return taken[:limit], len(taken) > limit


def write_list(
    view: View[M], items: Iterable[M], *, as_json: bool, limit: int, out: IO[str], err: IO[str]
) -> None:
    """A list of resources as a table (or a JSON array); says on stderr when `limit` cut it short."""
    taken, more = take(items, limit)
    if as_json:
        print(dumps([to_json(item) for item in taken]), file=out)
    elif taken:
        print(render_table(view.columns, [view.row(item) for item in taken]), file=out)
    else:
        print(f"no {view.plural}", file=out)
    if more:
        print(f"(first {limit} {view.plural} shown; --limit 0 shows all)", file=err)


def write_one(view: View[M], item: M, *, as_json: bool, out: IO[str]) -> None:
    """One resource as a record (or a JSON object)."""
    print(dumps(to_json(item)) if as_json else render_record(view.record(item)), file=out)
