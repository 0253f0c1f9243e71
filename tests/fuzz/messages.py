"""Hypothesis strategies for any request, built from its protobuf descriptor, and for bytes that are not one.

`messages(descriptor)` sets any subset of the fields, each drawn for its type at its extremes: text with
any code point, NULs and sizes up to past the gateway's 1 MiB request limit, integers and floats at their
bounds (NaN and infinities too), enums with values the proto never named, repeated fields from empty to
thousands of items, nested messages (Timestamps far outside their valid range, FieldMasks naming fields
that are and are not there). Fields whose name says what they carry (resource names, page tokens, request
ids, etags) also get values close to real ones, so the checks behind them are reached.

`request_bytes(descriptor)` is what a caller can put on the wire: such a message serialized, the same with
fields the proto does not know or with a known field number of the wrong wire type, a string field of
invalid UTF-8, or bytes that are no message at all.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

F = FieldDescriptor
_MiB = 2**20
# Bounds of each integer type, and the floats that break naive code.
_INT_RANGES = {
    F.TYPE_INT32: (-(2**31), 2**31 - 1),
    F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    F.TYPE_INT64: (-(2**63), 2**63 - 1),
    F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1),
    F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1),
    F.TYPE_FIXED64: (0, 2**64 - 1),
}
_FLOAT_EDGES = [0.0, -0.0, 5e-324, -1.0, 1e308, 1.7976931348623157e308, float("inf"), float("nan")]

# Any character a proto string can hold (valid UTF-8, so no lone surrogates), NUL and controls included.
_CHARACTERS = st.characters(exclude_categories=("Cs",)) | st.sampled_from(["\x00", "\u202e", "\ufeff", "%"])
_TRICKY_TEXT = [
    "", " ", "\x00", "a\x00b", "é", "🎮", "\u0301", "%s%n%x", "'; DROP TABLE games; --", "\\", '"', "{}",
    "../../etc/passwd", "null", "-1", "0", "1e999", "NaN", "%", "_", "%%%", "...", "!!!", "   ",
]  # fmt: skip


def _sized(sizes: list[int]) -> st.SearchStrategy[str]:
    """Text of exactly one of `sizes` characters, built at once (Hypothesis would draw each one)."""
    return st.tuples(st.sampled_from(sizes), _CHARACTERS).map(lambda pair: pair[1] * pair[0])


def texts() -> st.SearchStrategy[str]:
    """Any proto string: short and arbitrary, tricky, or long (past every limit on one field's text).

    Strings near the 1 MiB request limit come one per request (`wire_messages`): drawn for every field,
    they would make most requests too large to reach anything but the limit.
    """
    long = _sized([3, 255, 256, 1024, 65536])
    return st.text(_CHARACTERS, max_size=40) | st.sampled_from(_TRICKY_TEXT) | long


def _numbered(prefixes: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    """Resource names: a collection's prefix (or an odd one) and an id, small, huge or not a number."""
    # Small ids name things that exist, so that the checks behind the name are reached too.
    small = st.integers(1, 1000).map(str)
    odd_ids = st.sampled_from(["0", "01", "1.5", " 1", ""])
    numbers = small | small | st.integers(-(2**70), 2**70).map(str) | odd_ids
    return st.builds(str.__add__, st.sampled_from(prefixes) | st.sampled_from(odd), numbers)


def page_tokens() -> st.SearchStrategy[str]:
    """Page tokens as a caller could forge them: text, base64url of any bytes, padding, huge ones."""
    encoded = st.binary(max_size=300).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="))
    return texts() | encoded | st.sampled_from(["=", "====", "-_", "e30", "W10", "A" * 4097])


# Values close to what each named field carries, drawn twice as often as arbitrary text.
COLLECTIONS = ["games/", "imports/", "runs/", "files/"]
_ODD_PREFIXES = ["records/", "", "games//", "games/games/", "GAMES/", "x"]
_BY_NAME: Mapping[str, Callable[[], st.SearchStrategy[Any]]] = {
    "name": lambda: _numbered(COLLECTIONS, _ODD_PREFIXES),
    "file": lambda: _numbered(["files/"], ["runs/", ""]),
    "last_import": lambda: _numbered(["imports/"], ["games/"]),
    "page_token": page_tokens,
    "request_id": lambda: st.uuids().map(str) | st.sampled_from(["fixed-request-id", "x" * 1000]),
    "etag": lambda: st.sampled_from(['"0"', 'W/"1"', "*", '"' + "9" * 40 + '"']),
    "query": lambda: st.sampled_from(["pok", "pokemon", "!!!", "%_%", "a b", "---", "\\\\\\", "é" * 3]),
}
_URIS = ["http://[::1", "https://", "http://x", "javascript:alert(1)", "http://a:99999999/", "http:///x"]


def _hint(field: FieldDescriptor, paths: list[str]) -> st.SearchStrategy[Any] | None:
    """Values close to real ones for a field whose name says what it holds, or None."""
    if field.name == "paths":  # a FieldMask: names of fields of the request's proto file, and others
        return st.sampled_from([*paths, "*", "", "game.name", "no_such_field"])
    if field.name.endswith(("_uri", "_url")):
        return st.sampled_from(_URIS) | st.builds("https://example.com/{}".format, texts())
    hint = _BY_NAME.get(field.name)
    return None if hint is None else hint()


def _scalar(field: FieldDescriptor, paths: list[str]) -> st.SearchStrategy[Any]:
    kind = field.type
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        return st.integers(low, high) | st.sampled_from([low, high, 0, -1 if low else 1])
    if kind == F.TYPE_DOUBLE:
        return st.floats() | st.sampled_from(_FLOAT_EDGES)
    if kind == F.TYPE_FLOAT:
        return st.floats(width=32)
    if kind == F.TYPE_BOOL:
        return st.booleans()
    if kind == F.TYPE_ENUM:
        named = [value.number for value in field.enum_type.values]
        # Proto3 enums are open: any int32 parses, so a caller can send values the proto never named.
        # Named ones are drawn more often: a request with a bad enum is refused before anything else.
        return st.sampled_from(named) | st.sampled_from(named) | st.integers(-(2**31), 2**31 - 1)
    if kind == F.TYPE_BYTES:
        return st.binary(max_size=64)
    hint = _hint(field, paths)
    return texts() if hint is None else hint | hint | texts()


def _timestamps() -> st.SearchStrategy[Message]:
    """Timestamps at and just past the ends of their valid range (years 1 to 9999, nanos below 10**9)."""
    seconds = st.sampled_from([-62135596800, -62135596801, 0, -1, 253402300799, 253402300800, 2**62])
    nanos = st.sampled_from([0, 999_999_999, 1_000_000_000, -1])
    return st.builds(lambda s, n: timestamp_pb2.Timestamp(seconds=s, nanos=n), seconds, nanos)


def _field(field: FieldDescriptor, depth: int, paths: list[str], complete: bool) -> st.SearchStrategy[Any]:
    if field.type == F.TYPE_MESSAGE:
        if depth <= 0:
            return st.just([]) if field.is_repeated else st.just(GetMessageClass(field.message_type)())
        one = messages(field.message_type, depth=depth - 1, paths=paths, complete=complete)
        if field.message_type.full_name == "google.protobuf.Timestamp":
            one = _timestamps() | one
    else:
        one = _scalar(field, paths)
    if not field.is_repeated:
        return one
    # Mostly a few items; sometimes thousands of one small item (cheap to draw, bounded on the wire).
    if field.type == F.TYPE_MESSAGE:
        small: st.SearchStrategy[Any] = st.just(GetMessageClass(field.message_type)())
    elif field.type == F.TYPE_STRING:
        small = st.text(_CHARACTERS, max_size=8)
    else:
        small = one
    many = st.tuples(st.sampled_from([1000, 20_000]), small).map(lambda pair: [pair[1]] * pair[0])
    return st.lists(one, max_size=5) | many


def _build(descriptor: Descriptor, values: dict[str, Any]) -> Message:
    message = GetMessageClass(descriptor)()
    for name, value in values.items():
        field = descriptor.fields_by_name[name]
        target = getattr(message, name)
        if field.is_repeated:
            target.extend(value)
        elif field.type == F.TYPE_MESSAGE:
            target.CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def messages(
    descriptor: Descriptor, *, depth: int = 3, paths: list[str] | None = None, complete: bool = False
) -> st.SearchStrategy[Message]:
    """Messages of `descriptor` with any subset of fields set, each drawn for its type (see module doc).

    `complete` sets every field (of the messages nested in it too), so that requests get past the checks
    of required fields to what lies behind them. FieldMask paths are drawn from `paths`, by
    default the names of the fields of `descriptor`'s file.
    """
    if paths is None:
        paths = sorted({f.name for m in descriptor.file.message_types_by_name.values() for f in m.fields})
    drawn = {field.name: _field(field, depth, paths, complete) for field in descriptor.fields}
    both = st.fixed_dictionaries(drawn) if complete else st.fixed_dictionaries({}, optional=drawn)
    return both.map(lambda values: _build(descriptor, values))


def _varint(value: int) -> bytes:
    value &= 2**64 - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _record(number: int, wire_type: int, payload: bytes) -> bytes:
    """One field on the wire; a length-delimited payload gets its length, the others go as they are."""
    key = _varint((number << 3) | wire_type)
    return key + (_varint(len(payload)) + payload if wire_type == 2 else payload)


def _unknown_fields(first: int) -> st.SearchStrategy[bytes]:
    """Well-formed fields numbered from `first` on, which a parser keeps as unknown fields."""
    numbers = st.integers(first, 2**29 - 1)
    varint = st.builds(lambda n, v: _record(n, 0, _varint(v)), numbers, st.integers(0, 2**64 - 1))
    fixed = st.builds(lambda n, t: _record(n, t, bytes(8 if t == 1 else 4)), numbers, st.sampled_from([1, 5]))
    length = st.builds(lambda n, b: _record(n, 2, b), numbers, st.binary(max_size=64))
    return st.lists(varint | fixed | length, min_size=1, max_size=4).map(b"".join)


def _text_paths(descriptor: Descriptor, depth: int = 2) -> list[tuple[str, ...]]:
    """Paths to the singular string fields of `descriptor` and of the messages in it, `depth` deep."""
    found: list[tuple[str, ...]] = []
    for field in descriptor.fields:
        if field.is_repeated:
            continue
        if field.type == F.TYPE_STRING:
            found.append((field.name,))
        elif field.type == F.TYPE_MESSAGE and depth > 1:
            found += [(field.name, *rest) for rest in _text_paths(field.message_type, depth - 1)]
    return found


def _with_text(message: Message, path: tuple[str, ...], size: int) -> bytes:
    target = message
    for name in path[:-1]:
        target = getattr(target, name)
    setattr(target, path[-1], "x" * size)
    return message.SerializeToString()


def wire_messages(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """Requests of `descriptor` as sent: a message (see `messages`), or one with fields it lacks.

    Sometimes every field is set, sometimes one string field is as long as the gateway's 1 MiB request
    limit allows, or a little more.
    """
    valid = messages(descriptor).map(lambda m: m.SerializeToString())
    complete = messages(descriptor, complete=True).map(lambda m: m.SerializeToString())
    first_unknown = max((field.number for field in descriptor.fields), default=0) + 1
    unknown = st.tuples(valid, _unknown_fields(first_unknown)).map(b"".join)
    paths = _text_paths(descriptor)
    if not paths:
        return valid | valid | complete | unknown
    sizes = st.sampled_from([_MiB - 256, _MiB + 1])
    huge = st.builds(_with_text, messages(descriptor, depth=1), st.sampled_from(paths), sizes)
    return valid | valid | complete | complete | unknown | huge


def not_messages(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """Bytes that do not parse as `descriptor`: mangled messages, broken encodings, random bytes."""
    valid = messages(descriptor, depth=1).map(lambda m: m.SerializeToString())
    numbers = [field.number for field in descriptor.fields] or [1]
    # A known field with the wrong wire type (or the group types and the two that do not exist).
    wrong_type = st.builds(_record, st.sampled_from(numbers), st.integers(0, 7), st.just(b"\xff" * 9))
    text_fields = [f.number for f in descriptor.fields if f.type == F.TYPE_STRING] or numbers
    invalid_utf8 = st.sampled_from([b"\xff", b"a\xc0", b"\xed\xa0\x80"])  # the last: an encoded surrogate
    bad_text = st.builds(_record, st.sampled_from(text_fields), st.just(2), invalid_utf8)
    mangled = st.tuples(valid, wrong_type | bad_text).map(b"".join)
    # A lone field key, a length past the end, a varint that never ends.
    broken = st.sampled_from([b"\x0a", b"\x0a\xff\xff\xff\xff\x0f", b"\x80" * 11, b"\x0b", b"\x0f"])
    return mangled | broken | st.binary(min_size=1, max_size=64)
