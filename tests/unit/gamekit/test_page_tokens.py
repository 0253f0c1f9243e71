import base64
import hashlib
import hmac

import pytest
from pydantic import SecretStr

from gamekit.errors import InvalidArgument
from gamekit.paging.tokens import PageTokens, page_size

KEY = b"unit-test-key-0123456789abcdef00"


def test_round_trip():
    tokens = PageTokens(KEY)
    token = tokens.encode(kind="games.search", filters={"query": "poke"}, cursor=[1, -0.25, 42])
    assert tokens.decode(token, kind="games.search", filters={"query": "poke"}) == [1, -0.25, 42]


def test_empty_token_is_first_page():
    assert PageTokens(KEY).decode("", kind="games.list", filters={}) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-3],  # truncated
        lambda t: t[:10],
        lambda t: "A" + t[1:] if t[0] != "A" else "B" + t[1:],  # flipped byte
        lambda t: "!!!not-base64!!!",
        lambda t: "",  # handled separately: first page
    ],
)
def test_forged_tokens_are_refused(mangle):
    tokens = PageTokens(KEY)
    token = tokens.encode(kind="games.list", filters={"platform": ""}, cursor=[7])
    forged = mangle(token)
    if not forged:
        return
    with pytest.raises(InvalidArgument) as info:
        tokens.decode(forged, kind="games.list", filters={"platform": ""})
    assert info.value.violations[0].field == "page_token"


def test_token_with_a_rewritten_payload_is_refused():
    tokens = PageTokens(KEY)
    raw = base64.urlsafe_b64decode(tokens.encode(kind="games.list", filters={}, cursor=[7]) + "==")
    payload, mac = raw[:-32], raw[-32:]
    forged = payload.replace(b"[7]", b"[9]") + mac
    with pytest.raises(InvalidArgument):
        tokens.decode(base64.urlsafe_b64encode(forged).decode(), kind="games.list", filters={})


@pytest.mark.parametrize(
    "payload", [b"[1, 2]", b"null", b'"c"', b"\xff\xfe", b"{", b"[" * 5000], ids=lambda p: repr(p[:8])
)
def test_a_signed_payload_that_is_no_token_object_is_refused(payload):
    # A valid MAC over something else than the token's JSON object (a token of an older or newer
    # format, or the key reused): refused like any other token, never AttributeError or JSONDecodeError.
    mac = hmac.new(KEY, payload, hashlib.sha256).digest()
    token = base64.urlsafe_b64encode(payload + mac).decode().rstrip("=")
    with pytest.raises(InvalidArgument) as info:
        PageTokens(KEY).decode(token, kind="games.list", filters={})
    assert info.value.violations[0].field == "page_token"


def test_token_from_another_key_is_refused():
    token = PageTokens(b"another-key-0123456789abcdef0000").encode(kind="games.list", filters={}, cursor=[1])
    with pytest.raises(InvalidArgument):
        PageTokens(KEY).decode(token, kind="games.list", filters={})


def test_mismatched_filter_or_kind_is_refused():
    tokens = PageTokens(KEY)
    token = tokens.encode(kind="games.search", filters={"query": "poke", "platform": ""}, cursor=[0, -1.0, 1])
    with pytest.raises(InvalidArgument, match="invalid request: page_token") as info:
        tokens.decode(token, kind="games.search", filters={"query": "zelda", "platform": ""})
    assert "different filters" in info.value.violations[0].description
    with pytest.raises(InvalidArgument):
        tokens.decode(token, kind="games.list", filters={"query": "poke", "platform": ""})


def test_secret_or_random_key(caplog):
    configured = PageTokens.from_secret(SecretStr("s3cret"))
    token = configured.encode(kind="k", filters={}, cursor=[1])
    assert PageTokens.from_secret(SecretStr("s3cret")).decode(token, kind="k", filters={}) == [1]
    with caplog.at_level("WARNING"):
        random_one = PageTokens.from_secret(None)
    assert "PAGE_TOKEN_SECRET" in caplog.text
    with pytest.raises(InvalidArgument):
        random_one.decode(token, kind="k", filters={})


@pytest.mark.parametrize(("requested", "expected"), [(0, 50), (1, 1), (1000, 1000)])
def test_page_size(requested, expected):
    assert page_size(requested, default=50, maximum=1000) == expected


@pytest.mark.parametrize("requested", [-1, 1001])
def test_bad_page_size(requested):
    with pytest.raises(InvalidArgument) as info:
        page_size(requested, default=50, maximum=1000)
    assert info.value.violations[0].field == "page_size"
    if requested > 0:
        assert "1000" in info.value.violations[0].description
