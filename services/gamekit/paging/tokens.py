"""Opaque, tamper-evident page tokens for keyset pagination, shared by every service.

A token is base64url(JSON payload || HMAC-SHA256(payload)). The payload binds the kind of listing
and a hash of its filter, so a token from one query cannot page another, and carries the keyset
cursor. Tokens are not encrypted: the cursor (ids, ranks) is not secret, only unforgeable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from gamekit.errors import InvalidArgument

_log = logging.getLogger(__name__)
_MAC_SIZE = 32
_VERSION = 1
Cursor = list[Any]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _filter_hash(filters: Mapping[str, str]) -> str:
    canonical = json.dumps(dict(filters), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _invalid(description: str) -> InvalidArgument:
    return InvalidArgument.field("page_token", description)


class PageTokens:
    """Encodes and checks page tokens with one HMAC key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the page token key must be at least 16 bytes")
        self._key = key

    @classmethod
    def from_secret(cls, secret: SecretStr | None, *, setting: str = "PAGE_TOKEN_SECRET") -> PageTokens:
        """Tokens keyed by the configured secret, or by a random per-process key (with a warning)."""
        if secret is None or not secret.get_secret_value():
            _log.warning("%s is unset: page tokens will not survive a restart", setting)
            return cls(secrets.token_bytes(32))
        return cls(hashlib.sha256(secret.get_secret_value().encode()).digest())

    def encode(self, *, kind: str, filters: Mapping[str, str], cursor: Cursor) -> str:
        """A token for the page after `cursor` of the listing `kind` with `filters`."""
        payload = json.dumps(
            {"v": _VERSION, "k": kind, "f": _filter_hash(filters), "c": cursor}, separators=(",", ":")
        ).encode()
        return _b64encode(payload + self._mac(payload))

    def decode(self, token: str, *, kind: str, filters: Mapping[str, str]) -> Cursor | None:
        """The cursor in `token`, None for '' (the first page); InvalidArgument when forged or mismatched."""
        if not token:
            return None
        try:
            raw = _b64decode(token)
        except (binascii.Error, ValueError) as exc:
            raise _invalid("not a page token from this service") from exc
        payload, mac = raw[:-_MAC_SIZE], raw[-_MAC_SIZE:]
        if len(raw) <= _MAC_SIZE or not hmac.compare_digest(mac, self._mac(payload)):
            raise _invalid("not a page token from this service")
        try:
            data = json.loads(payload)
        except (ValueError, RecursionError) as exc:  # a valid MAC over no JSON: a format we never wrote
            raise _invalid("not a page token from this service") from exc
        if not isinstance(data, dict):
            raise _invalid("not a page token from this service")
        if data.get("v") != _VERSION or data.get("k") != kind:
            raise _invalid("the page token belongs to another method")
        if data.get("f") != _filter_hash(filters):
            raise _invalid("the page token was issued for different filters; send the same query")
        cursor = data.get("c")
        if not isinstance(cursor, list):
            raise _invalid("not a page token from this service")
        return cursor

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()


def page_size(requested: int, *, default: int, maximum: int) -> int:
    """The page size to use: `default` for 0, InvalidArgument when negative or above `maximum`."""
    if requested < 0:
        raise InvalidArgument.field("page_size", "must not be negative")
    if requested > maximum:
        raise InvalidArgument.field("page_size", f"must be at most {maximum}")
    return requested or default
