"""Floors of the ingestion scenario, measured on the same data in the same run.

- COPY: the normalized rows of the import (what the catalog stored, one per accepted record of the
  file: a repeated app's row is sent again, as the importer sends it) COPYed into an empty table of the
  catalog's columns, the way the importer stages them; only the COPY is timed.
- parse: `bench.parse_floor` in a child process (its memory is its own and is freed after).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from catalog.storage.tables import FIELD_COLUMNS

CHUNK = 1 << 20
# orjson's documents take about 8x the file in RAM; parse the whole file only when that fits easily.
WHOLE_FILE_RAM_FACTOR = 9


@dataclass(frozen=True)
class Floor:
    """A floor's time over the whole file and how it was measured."""

    seconds: float
    how: str
    peak_rss_mib: float | None = None


def copy_floor(database_url: str, *, import_id: int, rows: int) -> Floor:
    """COPY `rows` normalized rows of import `import_id` into an empty table; the COPY's time."""
    columns = sql.SQL(", ").join(map(sql.Identifier, FIELD_COLUMNS))
    export = sql.SQL("COPY (SELECT {} FROM catalog.games WHERE last_import_id = {} ORDER BY id) TO STDOUT")
    with psycopg.connect(database_url) as conn:
        lines: list[bytes] = []
        with conn.cursor().copy(export.format(columns, sql.Literal(import_id))) as copy:
            # Text COPY hands out one row (a line) per block.
            lines.extend(bytes(block) for block in copy)
        if not lines:
            raise RuntimeError(f"import {import_id} stored no rows")
        chunks = _chunks([lines[i % len(lines)] for i in range(rows)])
        conn.execute(
            sql.SQL("CREATE TEMP TABLE copy_floor AS SELECT {} FROM catalog.games WITH NO DATA").format(
                columns
            )
        )
        started = time.perf_counter()
        with conn.cursor().copy(sql.SQL("COPY copy_floor ({}) FROM STDIN").format(columns)) as copy:
            for chunk in chunks:
                copy.write(chunk)
        seconds = time.perf_counter() - started
        conn.rollback()
    return Floor(seconds, f"COPY of {rows:,} rows ({len(lines):,} distinct) into an empty table")


def _chunks(lines: list[bytes]) -> list[bytes]:
    chunks, current, size = [], [], 0
    for line in lines:
        current.append(line)
        size += len(line)
        if size >= CHUNK:
            chunks.append(b"".join(current))
            current, size = [], 0
    if current:
        chunks.append(b"".join(current))
    return chunks


def whole_file_fits(path: Path) -> bool:
    """Whether orjson can hold the whole file's documents in the memory available now."""
    return path.stat().st_size * WHOLE_FILE_RAM_FACTOR < psutil.virtual_memory().available * 0.5


def parse_floor(path: Path, *, whole: bool) -> Floor:
    """orjson over the file, as a whole document or line by line, in a child process."""
    argv = [sys.executable, "-m", "bench.parse_floor", str(path), *(["--whole"] if whole else [])]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    figures = json.loads(out)
    how = "orjson, whole file" if whole else "orjson, one rank group (line) at a time"
    return Floor(figures["seconds"], how, figures["peak_rss_mib"])
