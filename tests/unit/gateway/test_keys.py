"""The API key file: creating keys, authenticating them, revocation, reloads, and malformed files."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest

from gateway.callers.keys import KEY_PREFIX, SCOPES, ApiKey, KeyFileError, KeyStore, create_key, hash_key


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys.json"


def _entries(path: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text())["keys"]
    return entries


def _rewrite(path: Path, document: object) -> None:
    """Replace the file atomically, as create_key and Kubernetes do."""
    temp = path.with_suffix(".new")
    temp.write_text(json.dumps(document))
    os.replace(temp, path)


def test_created_key_authenticates_with_its_scopes_and_limits(key_file: Path) -> None:
    key = create_key(key_file, key_id="admin", scopes=SCOPES, rate_limit_rps=100, rate_limit_burst=200)
    store = KeyStore(key_file)
    assert store.authenticate(key) == ApiKey(
        key_id="admin", scopes=frozenset(SCOPES), rate_limit_rps=100.0, rate_limit_burst=200
    )
    assert store.authenticate(f"Bearer {key}") == store.authenticate(key)


def test_key_format(key_file: Path) -> None:
    key = create_key(key_file, key_id="reader-1", scopes=["games.read"])
    prefix, _, secret = key.partition("reader-1_")
    assert prefix == "gk_"
    assert len(secret) >= 43  # 32 random bytes, base64url


def test_the_file_holds_only_a_hash(key_file: Path) -> None:
    key = create_key(key_file, key_id="reader", scopes=["games.read"])
    text = key_file.read_text()
    assert key not in text
    # The secret is everything after `gk_reader_`; it is base64url, so it may hold `_` itself, and a
    # split on its last `_` could leave a character or two that the file holds by chance.
    secret = key.removeprefix(f"{KEY_PREFIX}reader_")
    assert len(secret) >= 43
    assert not any(secret[i : i + 8] in text for i in range(len(secret) - 7)), "a piece of the secret"
    [entry] = _entries(key_file)
    assert entry["hash"] == hash_key(key)
    assert entry["hash"].startswith("sha256:")


@pytest.mark.parametrize(
    "bearer",
    [
        "",
        "Bearer ",
        "gk_",
        "gk_reader",
        "gk_reader_",
        "nope_reader_secret",
        "gk_READER_secret",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_malformed_keys_are_refused(key_file: Path, bearer: str) -> None:
    create_key(key_file, key_id="reader", scopes=["games.read"])
    assert KeyStore(key_file).authenticate(bearer) is None


def test_wrong_secret_and_unknown_id_are_refused(key_file: Path) -> None:
    key = create_key(key_file, key_id="reader", scopes=["games.read"])
    store = KeyStore(key_file)
    assert store.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.authenticate(key.replace("gk_reader_", "gk_other_")) is None


def test_several_keys_and_replacing_one(key_file: Path) -> None:
    admin = create_key(key_file, key_id="admin", scopes=SCOPES)
    old_reader = create_key(key_file, key_id="reader", scopes=["games.read"])
    new_reader = create_key(key_file, key_id="reader", scopes=["games.read", "games.write"])
    assert [e["id"] for e in _entries(key_file)] == ["admin", "reader"]
    store = KeyStore(key_file)
    assert store.authenticate(admin) is not None
    assert store.authenticate(old_reader) is None
    reader = store.authenticate(new_reader)
    assert reader is not None
    assert reader.scopes == {"games.read", "games.write"}


def test_revoked_key_is_refused(key_file: Path) -> None:
    key = create_key(key_file, key_id="reader", scopes=["games.read"])
    [entry] = _entries(key_file)
    _rewrite(key_file, {"keys": [{**entry, "revoked": True}]})
    assert KeyStore(key_file).authenticate(key) is None


def test_removed_and_revoked_keys_stop_working_after_reload(key_file: Path) -> None:
    admin = create_key(key_file, key_id="admin", scopes=SCOPES)
    reader = create_key(key_file, key_id="reader", scopes=["games.read"])
    store = KeyStore(key_file, check_interval=0)
    assert store.authenticate(admin) is not None
    assert store.authenticate(reader) is not None
    admin_entry, _ = _entries(key_file)
    _rewrite(key_file, {"keys": [{**admin_entry, "revoked": True}]})
    assert store.authenticate(admin) is None
    assert store.authenticate(reader) is None


def test_new_key_is_seen_after_the_check_interval_only(key_file: Path) -> None:
    create_key(key_file, key_id="admin", scopes=SCOPES)
    lazy = KeyStore(key_file, check_interval=3600)
    eager = KeyStore(key_file, check_interval=0)
    reader = create_key(key_file, key_id="reader", scopes=["games.read"])
    assert lazy.authenticate(reader) is None
    assert eager.authenticate(reader) is not None
    assert lazy.reload_if_changed() is True
    assert lazy.authenticate(reader) is not None
    assert lazy.reload_if_changed() is False


def test_same_size_rewrite_in_place_is_seen(key_file: Path) -> None:
    """A rewrite within one timestamp tick, same size, same inode: compared by content."""
    first = create_key(key_file, key_id="reader", scopes=["games.read"])
    store = KeyStore(key_file, check_interval=0)
    text = key_file.read_text()
    second = create_key(key_file, key_id="reader", scopes=["games.read"])
    new_text = key_file.read_text()
    key_file.write_text(text)  # back to the first, then in place to the second
    stat = key_file.stat()
    key_file.write_text(new_text)
    os.utime(key_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert store.authenticate(second) is not None
    assert store.authenticate(first) is None


def test_malformed_new_file_keeps_the_last_good_keys(
    key_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = create_key(key_file, key_id="reader", scopes=["games.read"])
    store = KeyStore(key_file, check_interval=0)
    with caplog.at_level(logging.WARNING, logger="gateway.callers.keys"):
        key_file.write_text('{"keys": [')
        assert store.reload_if_changed() is False
        assert store.authenticate(key) is not None
        assert store.authenticate(key) is not None  # checked again, still bad: no second line
    assert len([r for r in caplog.records if "keeping the last good keys" in r.getMessage()]) == 1
    assert key not in caplog.text

    other = create_key(key_file.with_name("other.json"), key_id="admin", scopes=SCOPES)
    key_file.write_text(key_file.with_name("other.json").read_text())
    assert store.reload_if_changed() is True
    assert store.authenticate(other) is not None
    assert store.authenticate(key) is None


def test_deleted_file_keeps_the_last_good_keys(key_file: Path) -> None:
    key = create_key(key_file, key_id="reader", scopes=["games.read"])
    store = KeyStore(key_file, check_interval=0)
    key_file.unlink()
    assert store.authenticate(key) is not None


def test_kubernetes_symlink_swap_is_followed(tmp_path: Path) -> None:
    """A Secret volume: keys.json -> ..data/keys.json, ..data -> a timestamped directory swapped whole."""
    mount = tmp_path / "secret"
    mount.mkdir()

    def publish(version: str, source: Path) -> None:
        target = mount / version
        target.mkdir()
        (target / "keys.json").write_bytes(source.read_bytes())
        (mount / "..data_tmp").symlink_to(version)
        os.replace(mount / "..data_tmp", mount / "..data")

    staging = tmp_path / "staging.json"
    first = create_key(staging, key_id="reader", scopes=["games.read"])
    publish("..2026_01_01", staging)
    (mount / "keys.json").symlink_to("..data/keys.json")
    store = KeyStore(mount / "keys.json", check_interval=0)
    assert store.authenticate(first) is not None

    second = create_key(staging, key_id="writer", scopes=["games.write"])
    publish("..2026_01_02", staging)
    assert store.authenticate(second) is not None
    assert store.authenticate(first) is not None


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "Bad_Id", "scopes": ["games.read"]},
        {"id": "ok", "scopes": ["games.delete"]},
        {"id": "ok", "scopes": "games.read"},
        {"id": "ok", "scopes": ["games.read"], "hash": "md5:abc"},
        {"id": "ok", "scopes": ["games.read"], "rate_limit_rps": 0},
        {"id": "ok", "scopes": ["games.read"], "rate_limit_rps": True},
        {"id": "ok", "scopes": ["games.read"], "rate_limit_burst": 1.5},
        {"id": "ok", "scopes": ["games.read"], "max_in_flight": 0},
        {"id": "ok", "scopes": ["games.read"], "max_in_flight": "4"},
        {"id": "ok", "scopes": ["games.read"], "max_in_flight": True},
        {"id": "ok", "scopes": ["games.read"], "revoked": "yes"},
    ],
)
def test_invalid_entries_make_the_file_malformed(key_file: Path, entry: dict[str, Any]) -> None:
    entry = {"hash": hash_key("gk_ok_x"), **entry}
    key_file.write_text(json.dumps({"keys": [entry]}))
    with pytest.raises(KeyFileError):
        KeyStore(key_file)


@pytest.mark.parametrize("text", ["", "[]", '{"keys": {}}', "{}", "\xff"])
def test_a_store_needs_a_good_file_to_start(key_file: Path, text: str) -> None:
    key_file.write_text(text, encoding="latin-1")
    with pytest.raises(KeyFileError):
        KeyStore(key_file)


def test_missing_file_at_start(key_file: Path) -> None:
    with pytest.raises(KeyFileError, match=r"keys\.json"):
        KeyStore(key_file)


def test_duplicate_ids_are_malformed(key_file: Path) -> None:
    create_key(key_file, key_id="reader", scopes=["games.read"])
    [entry] = _entries(key_file)
    key_file.write_text(json.dumps({"keys": [entry, entry]}))
    with pytest.raises(KeyFileError, match="duplicate"):
        KeyStore(key_file)


def test_create_key_validates_and_never_clobbers_a_bad_file(key_file: Path) -> None:
    with pytest.raises(ValueError, match="unknown scopes"):
        create_key(key_file, key_id="reader", scopes=["games.everything"])
    with pytest.raises(ValueError, match="id"):
        create_key(key_file, key_id="has_underscore", scopes=["games.read"])
    assert not key_file.exists()
    key_file.write_text("not json")
    with pytest.raises(KeyFileError):
        create_key(key_file, key_id="reader", scopes=["games.read"])
    assert key_file.read_text() == "not json"
    assert list(key_file.parent.iterdir()) == [key_file]  # no temporary file left behind


def test_a_key_carries_its_own_limit_of_calls_in_flight(key_file: Path) -> None:
    limited = create_key(key_file, key_id="batch", scopes=["ingestion.admin"], max_in_flight=2)
    default = create_key(key_file, key_id="reader", scopes=["games.read"])
    store = KeyStore(key_file)
    assert store.authenticate(limited) == ApiKey(
        key_id="batch", scopes=frozenset({"ingestion.admin"}), max_in_flight=2
    )
    found = store.authenticate(default)
    assert found is not None
    assert found.max_in_flight is None, "None: the gateway's default applies"
    with pytest.raises(KeyFileError):
        create_key(key_file, key_id="greedy", scopes=["games.read"], max_in_flight=0)
