"""Fuzz target: the API key file's bytes; the gateway loads them or says KeyFileError, and keeps serving.

For any bytes: `KeyStore` made from them either loads or raises KeyFileError (the gateway then does not
start); a loaded store answers `authenticate` for any bearer with an ApiKey or None; and a store that
had good keys, whose file then becomes these bytes, either takes the new keys or keeps every old one
(`reload_if_changed`, never an exception: a bad Secret update must not lock every caller out).

Run by `make fuzz` (tests/fuzz/campaign.py); tests/fuzz/test_corpus.py replays the kept corpus.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path

from gateway.callers.keys import ApiKey, KeyFileError, KeyStore, create_key, hash_key

_DIR = Path(tempfile.mkdtemp(prefix="fuzz-keys-"))  # the campaign's child points TMPDIR into build/fuzz
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
_NEW, _GOOD = _DIR / "new.json", _DIR / "good.json"
_GOOD_KEY = create_key(_GOOD, key_id="admin", scopes=["games.read"], rate_limit_rps=5, rate_limit_burst=10)
_GOOD_BYTES = _GOOD.read_bytes()


def one_input(data: bytes) -> None:
    """Load `data` as a key file, authenticate with it, and reload a good store with it."""
    _NEW.write_bytes(data)
    try:
        store = KeyStore(_NEW, check_interval=3600)
    except KeyFileError:
        store = None
    if store is not None:
        text = data[:200].decode("utf-8", "replace")
        for bearer in (text, f"Bearer {text}", f"gk_{text}_{text}", _GOOD_KEY):
            found = store.authenticate(bearer)
            assert found is None or isinstance(found, ApiKey), found

    _GOOD.write_bytes(_GOOD_BYTES)
    good = KeyStore(_GOOD, check_interval=3600)
    _GOOD.write_bytes(data)  # rewritten in place within 2 s: the store compares the content (keys.py)
    if not good.reload_if_changed():
        assert good.authenticate(_GOOD_KEY) is not None, "a bad key file took the good keys away"


def _file(*entries: object, **extra: object) -> bytes:
    return json.dumps({"keys": list(entries), **extra}).encode()


def seeds() -> list[bytes]:
    """A real key file, and one wrong in each way the loader checks."""
    entry = {"id": "reader", "hash": hash_key("gk_reader_x"), "scopes": ["games.read"]}
    made = {**entry, "rate_limit_rps": 5, "rate_limit_burst": 10, "created_at": "2026-01-01T00:00:00Z"}
    return [
        (json.dumps({"keys": [made]}, indent=2) + "\n").encode(),  # as create_key writes it
        _file(entry),
        _file(entry, {**entry, "id": "other", "revoked": True, "rate_limit_rps": 0.5, "rate_limit_burst": 1}),
        _file(entry, entry),
        _file({**entry, "id": "Bad_Id"}),
        _file({**entry, "hash": "sha256:" + "A" * 64}),
        _file({**entry, "scopes": ["games.read", "root"]}),
        _file({**entry, "scopes": "games.read"}),
        _file({**entry, "rate_limit_rps": float("inf")}),
        _file({**entry, "rate_limit_burst": True}),
        _file({**entry, "revoked": "no"}),
        _file("not an entry"),
        _file(entry, created_by="gamectl"),
        b'{"keys": {}}',
        b"[]",
        b"",
        b"\xef\xbb\xbf{}",
        b"\xff",
        b'{"keys": [' * 50,
        b"[" * 5000,  # deeper than json recurses: once a RecursionError out of the loader
    ]
