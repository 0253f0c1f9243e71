"""Key files built to break the loader (found by tests/fuzz/fuzz_keys.py): refused like any malformed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.callers.keys import KeyFileError, KeyStore, create_key

# Deeper than Python's recursion limit: json.loads raises RecursionError, not JSONDecodeError.
DEEP = ["[" * 100_000, '{"keys": [' + '{"a": ' * 100_000]


@pytest.mark.parametrize("text", DEEP, ids=["array", "entries"])
def test_a_deeply_nested_file_cannot_start_a_store(tmp_path: Path, text: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(text)
    with pytest.raises(KeyFileError, match="not JSON"):
        KeyStore(path)


@pytest.mark.parametrize("text", DEEP, ids=["array", "entries"])
def test_a_deeply_nested_new_file_keeps_the_last_good_keys(tmp_path: Path, text: str) -> None:
    path = tmp_path / "keys.json"
    key = create_key(path, key_id="reader", scopes=["games.read"])
    store = KeyStore(path, check_interval=0)
    path.write_text(text)
    assert store.authenticate(key) is not None
    assert store.reload_if_changed() is False
