"""Fuzz target: a page token a caller sends; it decodes to a cursor or is refused with InvalidArgument.

`data[0]` says what the rest is: the token's text as sent (mode 0), the base64url of bytes nobody signed
(mode 1), or a payload signed with the service's key (mode 2): what a token this service issued could
hold after a change of its format, so that the checks behind the MAC are reached too. Whatever it is,
`PageTokens.decode` returns None or a list, or raises InvalidArgument naming `page_token`.

Run by `make fuzz` (tests/fuzz/campaign.py); tests/fuzz/test_corpus.py replays the kept corpus.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from gamekit.errors import InvalidArgument
from gamekit.paging.tokens import PageTokens

KEY = b"fuzz-page-token-key-0123456789ab"
KIND = "games.list"
FILTERS = {"platform": "PLATFORM_IOS"}
_TOKENS = PageTokens(KEY)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed(payload: bytes) -> str:
    """A token carrying `payload` under the service's key, as `PageTokens.encode` lays one out."""
    return _b64(payload + hmac.new(KEY, payload, hashlib.sha256).digest())


def one_input(data: bytes) -> None:
    """Decode the token `data` stands for; anything but InvalidArgument on `page_token` escapes."""
    if not data:
        return
    mode, body = data[0] % 3, data[1:]
    token = (body.decode("utf-8", "replace"), _b64(body), signed(body))[mode]
    try:
        cursor = _TOKENS.decode(token, kind=KIND, filters=FILTERS)
    except InvalidArgument as refused:
        fields = [v.field for v in refused.violations]
    else:
        assert cursor is None or isinstance(cursor, list), cursor
        return
    assert fields == ["page_token"], fields


def _payload(**fields: object) -> bytes:
    return json.dumps(fields, separators=(",", ":")).encode()


def seeds() -> list[bytes]:
    """Real tokens, and tokens wrong in each way the decoder checks, in each mode."""
    real = _TOKENS.encode(kind=KIND, filters=FILTERS, cursor=[42])
    other = _TOKENS.encode(kind="games.search", filters={"query": "pok"}, cursor=[1, 0.5, 7])
    good = json.loads(base64.urlsafe_b64decode(real + "=" * (-len(real) % 4))[:-32])
    return [
        b"\x00" + real.encode(),
        b"\x00" + other.encode(),
        b"\x00" + real[:-3].encode(),
        b"\x00",
        b"\x00=",
        b"\x00" + "é".encode() + b"\x00",
        b"\x01" + b"\x00" * 40,
        b"\x02" + _payload(**good),
        b"\x02" + _payload(**{**good, "v": 2}),
        b"\x02" + _payload(**{**good, "c": {"id": 1}}),
        b"\x02" + _payload(**{**good, "c": [2**70, "x", None]}),
        b"\x02[1, 2]",
        b"\x02null",
        b"\x02\xff\xfe",
        b"\x02" + b"[" * 5000,
    ]
