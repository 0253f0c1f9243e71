"""The committed sample deliveries: the real format, every piece of dirt present, reproducible."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_DATA = ROOT / "deploy" / "local" / "sample-data"
FILES = (
    "2026-11-22/ios.top100.json",
    "2026-11-22/android.top100.json",
    "2026-11-23/ios.top100.json.gz",
    "2026-11-23/android.top100.json.gz",
)
# Raw bytes as they sit in the files: a backslash, "u" and four hex digits, not a decoded character.
DIRT_BYTES = {
    "2026-11-22/ios.top100.json": [
        rb'"name":"Pok\udc8emon GO"',
        rb'"name":"Caf\udcc3\udca9 Quest"',
        rb'"name":"Star Rider \ud83d Galaxy"',
        rb'"name":"Rocket Rush \ud83d\ude80"',
        rb"{}",
        rb'"app_id":null',
        rb'"rating":"abc"',
    ],
    "2026-11-22/android.top100.json": [
        rb'"name":"Pok\u00e9mon GO"',
        rb'"publisher_name":"Soci\udc8et\udc8e Ludique"',
        rb"{}",
        rb'"rating_count":"12k"',
    ],
    "2026-11-23/ios.top100.json.gz": [rb'"name":"Pok\udc8emon GO"', rb'"name":"Castle Siege: Reborn"'],
    "2026-11-23/android.top100.json.gz": [rb'"publisher_name":"Soci\udc8et\udc8e Ludique"'],
}


def raw(relative: str) -> bytes:
    data = (SAMPLE_DATA / relative).read_bytes()
    return gzip.decompress(data) if relative.endswith(".gz") else data


def load(relative: str) -> list[list[dict[str, Any]]]:
    document: list[list[dict[str, Any]]] = json.loads(raw(relative))
    return document


def records(relative: str) -> list[dict[str, Any]]:
    return [record for group in load(relative) for record in group]


def test_the_sample_directory_holds_the_deliveries_and_a_readme():
    found = sorted(p.relative_to(SAMPLE_DATA).as_posix() for p in SAMPLE_DATA.rglob("*") if p.is_file())
    assert found == sorted([*FILES, "README.md"])
    assert sum((SAMPLE_DATA / f).stat().st_size for f in found) < 1_500_000


@pytest.mark.parametrize("relative", FILES)
def test_each_file_is_a_json_array_of_rank_groups(relative):
    groups = load(relative)
    assert len(groups) == 100
    assert all(isinstance(group, list) and 2 <= len(group) <= 4 for group in groups)
    assert all(isinstance(record, dict) for group in groups for record in group)
    full = [r for r in records(relative) if r]
    assert min(len(r) for r in full) >= 45  # about 50 fields per app, as in real deliveries
    assert {r["os"] for r in full} == {relative.split("/")[1].split(".")[0]}


@pytest.mark.parametrize("relative", [f for f in FILES if f.endswith(".gz")])
def test_gz_files_are_gzip(relative):
    assert (SAMPLE_DATA / relative).read_bytes()[:2] == b"\x1f\x8b"
    assert raw(relative).startswith(b"[")


@pytest.mark.parametrize("relative", FILES)
def test_dirt_is_present_as_raw_escapes(relative):
    data = raw(relative)
    assert data.isascii()
    for dirt in DIRT_BYTES[relative]:
        assert dirt in data, dirt


def test_escapes_stand_for_bytes_of_legacy_or_utf8_text():
    names = {r.get("name") for r in records("2026-11-22/ios.top100.json")}
    assert "Pok\udc8emon GO" in names
    assert "Pok\udc8emon GO".encode("utf-8", "surrogateescape").decode("mac_roman") == "Pokémon GO"
    assert "Caf\udcc3\udca9 Quest" in names
    assert "Caf\udcc3\udca9 Quest".encode("utf-8", "surrogateescape").decode("utf-8") == "Café Quest"
    assert "Star Rider \ud83d Galaxy" in names
    with pytest.raises(UnicodeEncodeError):
        "Star Rider \ud83d Galaxy".encode("utf-8", "surrogateescape")
    assert "Rocket Rush \U0001f680" in names  # a valid pair decodes to one character


def test_ids_are_integers_on_ios_and_strings_on_android():
    ios = [r for r in records("2026-11-22/ios.top100.json") if r.get("app_id") is not None]
    android = [r for r in records("2026-11-22/android.top100.json") if r]
    assert all(type(r["app_id"]) is int and type(r["publisher_id"]) is int for r in ios)
    assert all(isinstance(r["app_id"], str) and isinstance(r["publisher_id"], str) for r in android)


def test_in_app_purchases_is_a_boolean_or_empty():
    values = {r["in_app_purchases"] for f in FILES for r in records(f) if r}
    assert values == {True, False, ""}


@pytest.mark.parametrize("relative", FILES)
def test_apps_recur_with_different_ranks(relative):
    ranks: dict[object, set[int]] = {}
    for r in records(relative):
        if r.get("app_id") is not None:
            ranks.setdefault(r["app_id"], set()).add(r["rank"])
    assert sum(1 for found in ranks.values() if len(found) > 1) > 20


def test_an_app_appears_twice_in_one_chart():
    places = Counter(
        (r["app_id"], r["chart"])
        for r in records("2026-11-22/ios.top100.json")
        if r.get("app_id") is not None
    )
    assert max(places.values()) >= 2


def test_day_two_renames_an_app_and_reranks():
    day1 = {r["app_id"]: r["name"] for r in records("2026-11-22/ios.top100.json") if r.get("app_id")}
    day2 = {r["app_id"]: r["name"] for r in records("2026-11-23/ios.top100.json.gz") if r.get("app_id")}
    renamed = [app for app, name in day2.items() if name == "Castle Siege: Reborn"]
    assert len(renamed) == 1
    assert day1[renamed[0]] == "Castle Siege"
    first = load("2026-11-22/ios.top100.json")[0]
    assert first != load("2026-11-23/ios.top100.json.gz")[0]


def test_missing_and_empty_records():
    android = records("2026-11-22/android.top100.json")
    assert any(r and "name" not in r for r in android)
    assert {} in android
    ios = records("2026-11-22/ios.top100.json")
    assert any("app_id" in r and r["app_id"] is None for r in ios)


def test_the_generator_reproduces_the_committed_files(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sample_data.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for relative in [*FILES, "README.md"]:
        assert (tmp_path / relative).read_bytes() == (SAMPLE_DATA / relative).read_bytes(), relative
