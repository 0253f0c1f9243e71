"""Plain-text tables: columns aligned by display width (wide CJK characters count twice)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

ELLIPSIS = "…"
GAP = "  "


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide and full-width characters 2, combining marks 0."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def clean(text: str) -> str:
    """One line: control characters (newlines, tabs, escapes) become spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)


def truncate(text: str, limit: int | None) -> str:
    """`text` cut to at most `limit` columns, ending in an ellipsis when cut."""
    if limit is None or display_width(text) <= limit:
        return text
    out, width = [], 0
    for char in text:
        w = display_width(char)
        if width + w > limit - 1:
            break
        out.append(char)
        width += w
    return "".join(out) + ELLIPSIS


def pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded with spaces to `width` columns, on the left when `right` aligned."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


@dataclass(frozen=True)
class Column:
    """A table column: its header, right alignment for numbers, and a maximum width."""

    header: str
    right: bool = False
    max_width: int | None = None


def render_table(columns: Sequence[Column], rows: Sequence[Sequence[str]]) -> str:
    """Header and rows aligned in columns two spaces apart, no trailing spaces."""
    cells = [
        [truncate(clean(cell), col.max_width) for col, cell in zip(columns, row, strict=True)] for row in rows
    ]
    widths = [
        max([display_width(col.header), *(display_width(row[i]) for row in cells)])
        for i, col in enumerate(columns)
    ]
    lines = []
    for row in [[col.header for col in columns], *cells]:
        parts = [pad(cell, widths[i], right=columns[i].right) for i, cell in enumerate(row)]
        lines.append(GAP.join(parts).rstrip())
    return "\n".join(lines)


def render_record(pairs: Sequence[tuple[str, str]]) -> str:
    """One resource as `label  value` lines, labels aligned; a multi-line value stays indented."""
    if not pairs:
        return ""
    width = max(display_width(label) for label, _ in pairs)
    lines = []
    for label, value in pairs:
        first, *rest = value.splitlines() or [""]
        lines.append(f"{pad(label, width)}{GAP}{first}".rstrip())
        lines += [f"{' ' * width}{GAP}{line}".rstrip() for line in rest]
    return "\n".join(lines)
