"""`gamectl keys create`: the key is printed once, and the file the gateway reads accepts it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gamectl.__main__ import main
from gamectl.keys import DEFAULT_KEY_FILE, create
from gateway.callers.keys import KeyStore


def test_keys_create_prints_a_key_the_store_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["--root", str(tmp_path), "keys", "create", "reader", "--scope", "games.read", "--rps", "5"]
    )
    assert status == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert "not shown again" in err
    assert key not in err
    path = tmp_path / DEFAULT_KEY_FILE
    caller = KeyStore(path).authenticate(key)
    assert caller is not None
    assert caller.scopes == {"games.read"}
    assert caller.rate_limit_rps == 5.0
    assert key not in path.read_text()


def test_keys_create_json(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "keys.json"
    scopes = ["games.write", "games.read"]
    assert create(path=path, key_id="writer", scopes=scopes, as_json=True, out=out, err=err) == 0
    record = json.loads(out.getvalue())
    assert record["id"] == "writer"
    assert record["scopes"] == ["games.read", "games.write"]
    assert KeyStore(path).authenticate(record["key"]) is not None


def test_keys_create_reports_a_bad_id_in_one_line(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "keys.json"
    assert create(path=path, key_id="Not_Valid", scopes=["games.read"], out=out, err=err) == 1
    assert out.getvalue() == ""
    assert err.getvalue().count("\n") == 1
    assert not path.exists()


def test_keys_create_with_a_limit_of_calls_in_flight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--root", str(tmp_path), "keys", "create", "batch", "--scope", "ingestion.admin"]
    assert main([*argv, "--max-in-flight", "3"]) == 0
    key = capsys.readouterr().out.strip()
    caller = KeyStore(tmp_path / DEFAULT_KEY_FILE).authenticate(key)
    assert caller is not None
    assert caller.max_in_flight == 3
    assert main([*argv, "--max-in-flight", "0"]) == 1
    assert "max_in_flight must be a positive integer" in capsys.readouterr().err
