"""THROWAWAY stand-in for tests/factories/deliveries.py until it lands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def app(n: int, platform: str = "ios", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "app_id": n if platform == "ios" else f"com.example.g{n}",
        "os": platform,
        "name": f"Game {n}",
        "publisher_id": 1000 + n,
        "publisher_name": "Example",
        "rank": n,
        "rating": 4.5,
        "rating_count": 10,
        "categories": ["Games"],
        "in_app_purchases": "",
    }
    for key, value in overrides.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def delivery(groups: list[list[Any]]) -> bytes:
    return json.dumps(groups).encode()


def large_delivery(path: Path, records: int, platform: str = "ios") -> int:
    with path.open("wb") as out:
        out.write(b"[")
        for i in range(records):
            if i:
                out.write(b",")
            out.write(json.dumps([app(i + 1, platform, description="x" * 200)]).encode())
        out.write(b"]")
    return path.stat().st_size
