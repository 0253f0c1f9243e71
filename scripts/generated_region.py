"""A generated region of a hand-written page: the text between two markers, rewritten or checked.

The chart's values table and docs/configuration.md are made this way, so the prose around the table
stays hand-written while the table cannot drift from its source.
"""

from __future__ import annotations

import sys
from pathlib import Path


def with_region(page: Path, start: str, end: str, body: str) -> str:
    """The text of `page` with `body` between its `start` and `end` markers; both must be there, in order.

    A page missing its end marker would otherwise lose everything after the start marker.
    """
    before, found_start, rest = page.read_text().partition(start)
    _, found_end, after = rest.partition(end)
    if not found_start or not found_end:
        raise SystemExit(f"{page} lacks its {start if not found_start else end} marker")
    return f"{before}{start}\n{body}\n{end}{after}"


def write_or_check(page: Path, fresh: str, argv: list[str], *, make_target: str) -> int:
    """Write `fresh` to `page`; with `--check` in argv, exit 1 when the page differs instead."""
    if "--check" in argv:
        if fresh != page.read_text():
            print(f"{page} is stale: run make {make_target}", file=sys.stderr)
            return 1
        return 0
    page.write_text(fresh)
    return 0
