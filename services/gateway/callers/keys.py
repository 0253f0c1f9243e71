"""API keys: the key file, authenticating a bearer key against it, and making new keys.

A key reads `gk_<id>_<secret>`: the id names its entry in the file (ids use lowercase letters, digits
and hyphens, never `_`, so the first `_` after the prefix ends the id) and the secret is 32 random bytes,
base64url-encoded. The file, mounted from a Kubernetes Secret, is JSON:

    {"keys": [{"id": "admin", "hash": "sha256:<hex>", "scopes": ["games.read"],
               "rate_limit_rps": 100, "rate_limit_burst": 200, "max_in_flight": 8, "revoked": false}]}

`rate_limit_rps`, `rate_limit_burst`, `max_in_flight` (calls in flight at once, per gateway replica)
and `revoked` are optional; other fields (such as `created_at`) are ignored.

Only a hash of each key is stored: SHA-256 over the whole key. A fast hash is sound here, unlike for
passwords, because every key carries 256 bits from `secrets`: slow, salted hashes exist to
make guessing low-entropy secrets expensive, and no amount of hashing speed brings a 2**256 search
within reach, while a fast hash keeps authenticating every call cheap. Digests are compared with
`hmac.compare_digest`. A plaintext key is returned once by `create_key` and never stored or logged.

`KeyStore` re-reads the file when its identity changes (inode, device, size or mtime of the file the
path resolves to, which also catches Kubernetes swapping its `..data` symlink; a file modified in the
last two seconds is compared by content too), checking at most every `check_interval` seconds. A new
file that does not parse keeps the last good keys in force, with one log line.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.surface import SCOPES as SCOPES  # re-exported: gamectl offers these when making keys

_log = logging.getLogger(__name__)

KEY_PREFIX = "gk_"
_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_HASH_PREFIX = "sha256:"
_HASH_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")
_SECRET_BYTES = 32


class KeyFileError(ValueError):
    """The key file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class ApiKey:
    """An authenticated caller's key: its id, its scopes and its own limits, if any."""

    key_id: str
    scopes: frozenset[str]
    rate_limit_rps: float | None = None
    rate_limit_burst: int | None = None
    max_in_flight: int | None = None


@dataclass(frozen=True)
class _Entry:
    key: ApiKey
    digest: str  # hash_key of the whole key
    revoked: bool


def hash_key(key: str) -> str:
    """The stored form of a key: `sha256:<hex>`."""
    return _HASH_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def _parse_bearer(bearer: str) -> tuple[str, str] | None:
    """(key id, whole key) from an `authorization` value, with or without `Bearer `; None if malformed."""
    token = bearer.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = token[len(KEY_PREFIX) :].partition("_")
    if not sep or not secret or not _ID_PATTERN.fullmatch(key_id):
        return None
    return key_id, token


class KeyStore:
    """The keys in one file, re-read when the file changes; thread-safe.

    The file must exist and parse when the store is made (KeyFileError otherwise: the gateway should
    not start without its keys); after that, a missing or malformed file keeps the last good keys.
    """

    def __init__(self, path: Path, *, check_interval: float = 2.0) -> None:
        self._path = path
        self._check_interval = check_interval
        self._lock = threading.Lock()
        self._signature: _Signature | None = _signature(path)
        data = _read_bytes(path)
        self._entries = _parse(_decode(path, data))
        self._digest = hashlib.sha256(data).digest()
        self._next_check = time.monotonic() + check_interval

    def authenticate(self, bearer: str) -> ApiKey | None:
        """The key's entry when `bearer` is a valid, unrevoked key in the file; None otherwise."""
        if time.monotonic() >= self._next_check:
            self.reload_if_changed()
        parsed = _parse_bearer(bearer)
        if parsed is None:
            return None
        key_id, token = parsed
        entry = self._entries.get(key_id)
        if entry is None:
            return None
        if not hmac.compare_digest(hash_key(token), entry.digest) or entry.revoked:
            return None
        return entry.key

    def reload_if_changed(self) -> bool:
        """Re-read the file if it changed since the last read; True when new keys took effect."""
        with self._lock:
            self._next_check = time.monotonic() + self._check_interval
            try:
                signature = _signature(self._path)
                if signature == self._signature and not _racy(signature):
                    return False
                data = _read_bytes(self._path)
            except KeyFileError as exc:
                if self._signature is not None:
                    _log.warning("API key file unreadable; keeping the last good keys: %s", exc)
                self._signature = None
                return False
            self._signature = signature
            digest = hashlib.sha256(data).digest()
            if digest == self._digest:
                return False
            self._digest = digest
            try:
                entries = _parse(_decode(self._path, data))
            except KeyFileError as exc:
                _log.warning("API key file changed but is not valid; keeping the last good keys: %s", exc)
                return False
            self._entries = entries
            _log.info("API key file re-read: %d keys", len(entries))
            return True


def create_key(
    path: Path,
    *,
    key_id: str,
    scopes: Iterable[str],
    rate_limit_rps: float | None = None,
    rate_limit_burst: int | None = None,
    max_in_flight: int | None = None,
) -> str:
    """Add (or replace) `key_id` in the key file atomically and return its plaintext key, once."""
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    entry: dict[str, Any] = {"id": key_id, "hash": hash_key(key), "scopes": sorted(set(scopes))}
    if rate_limit_rps is not None:
        entry["rate_limit_rps"] = rate_limit_rps
    if rate_limit_burst is not None:
        entry["rate_limit_burst"] = rate_limit_burst
    if max_in_flight is not None:
        entry["max_in_flight"] = max_in_flight
    entry["created_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _parse_entry(entry)  # the same rules the store applies: reject a bad id, scope or limit here
    document: dict[str, Any] = {"keys": []}
    if path.exists():
        document = _decode(path, _read_bytes(path))
        _parse(document)  # never rewrite (and so lose) a file that does not parse
    others = [e for e in document["keys"] if e.get("id") != key_id]
    document["keys"] = [*others, entry]
    _write_atomically(path, json.dumps(document, indent=2) + "\n")
    return key


# (resolved path, device, inode, size, mtime in ns): resolving the path follows Kubernetes's `..data`
# symlink, so a Secret update shows as a new resolved path and inode.
_Signature = tuple[str, int, int, int, int]


def _signature(path: Path) -> _Signature:
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except OSError as exc:
        raise KeyFileError(f"{path}: {exc.strerror}") from exc
    return real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _racy(signature: _Signature) -> bool:
    # File timestamps tick coarsely (milliseconds), and inodes are recycled: a rewrite of the same size
    # just after the last read can leave the signature unchanged. Like git's "racily clean" entries,
    # a file modified in the last two seconds is compared by content until it settles.
    return time.time_ns() - signature[4] < 2_000_000_000


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: {exc.strerror}") from exc


def _decode(path: Path, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:  # deeper than Python recurses
        raise KeyFileError(f"{path}: not JSON: {exc}") from exc


def _parse(document: Any) -> dict[str, _Entry]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeyFileError('the key file must be a JSON object with a "keys" list')
    entries: dict[str, _Entry] = {}
    for index, raw in enumerate(document["keys"]):
        try:
            entry = _parse_entry(raw)
        except KeyFileError as exc:
            raise KeyFileError(f"keys[{index}]: {exc}") from None
        if entry.key.key_id in entries:
            raise KeyFileError(f"keys[{index}]: duplicate id {entry.key.key_id!r}")
        entries[entry.key.key_id] = entry
    return entries


def _parse_entry(raw: Any) -> _Entry:
    if not isinstance(raw, Mapping):
        raise KeyFileError("an entry must be an object")
    key_id, digest, scopes = raw.get("id"), raw.get("hash"), raw.get("scopes")
    if not isinstance(key_id, str) or not _ID_PATTERN.fullmatch(key_id):
        raise KeyFileError(f"id {key_id!r} must be 1-63 lowercase letters, digits or '-'")
    if not isinstance(digest, str) or not _HASH_PATTERN.fullmatch(digest):
        raise KeyFileError(f"{key_id}: hash must be 'sha256:' and 64 lowercase hex digits")
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise KeyFileError(f"{key_id}: scopes must be a list of strings")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise KeyFileError(f"{key_id}: unknown scopes {unknown}; known: {list(SCOPES)}")
    rps, burst, revoked = raw.get("rate_limit_rps"), raw.get("rate_limit_burst"), raw.get("revoked", False)
    if rps is not None and (
        isinstance(rps, bool) or not isinstance(rps, int | float) or not (rps > 0 and math.isfinite(rps))
    ):
        raise KeyFileError(f"{key_id}: rate_limit_rps must be a positive number")
    if burst is not None and not _positive_int(burst):
        raise KeyFileError(f"{key_id}: rate_limit_burst must be a positive integer")
    in_flight = raw.get("max_in_flight")
    if in_flight is not None and not _positive_int(in_flight):
        raise KeyFileError(f"{key_id}: max_in_flight must be a positive integer")
    if not isinstance(revoked, bool):
        raise KeyFileError(f"{key_id}: revoked must be true or false")
    key = ApiKey(
        key_id=key_id,
        scopes=frozenset(scopes),
        rate_limit_rps=None if rps is None else float(rps),
        rate_limit_burst=burst,
        max_in_flight=in_flight,
    )
    return _Entry(key=key, digest=digest, revoked=revoked)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
