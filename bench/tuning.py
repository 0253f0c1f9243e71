"""Tuning decisions measured in the run: each compares the platform as shipped with the alternative."""

from __future__ import annotations

from typing import Any

from bench.games import Queries
from bench.platform import BenchPlatform
from bench.reads import ReadSettings


def compare(
    platform: BenchPlatform, settings: ReadSettings, queries: Queries
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """(k6 runs by label, one decision per entry with its measurement)."""
    return {}, []
