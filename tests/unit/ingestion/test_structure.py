"""The shape guard: valid deliveries pass whatever their strings and chunking; each wrong shape is refused."""

from __future__ import annotations

import io
import json
import random
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestion.parsing.records import Accepted, FileRejected, Quarantined, parse_delivery
from ingestion.parsing.structure import MAX_DEPTH, MAX_VALUE_BYTES, ShapeGuard, WrongShape
from tests.factories.deliveries import app, delivery

# Characters that end, open or escape things: what a byte-level guard could trip on.
NASTY = ['"', "\\", "[", "]", "{", "}", "\\u", ",", ":", "\n", "é", "🎮", "\udc8e", "\ufdd0", "\x00", "/"]
STRINGS = st.lists(st.sampled_from(NASTY) | st.text(max_size=3), max_size=8).map("".join)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63) + 1, 2**63 - 1)  # yajl refuses -2**63
    | st.floats(allow_nan=False, allow_infinity=False)
    | STRINGS
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(STRINGS, inner, max_size=4),
    max_leaves=8,
)
# An app object that parses (its nasty strings in fields the reader does not use), or one that is
# quarantined with its raw JSON kept, so every element's content can be compared.
SMALL_APP = {"app_id": 1100000001, "os": "ios", "name": "Game 1"}
GOOD = st.dictionaries(STRINGS.map(lambda key: f"x-{key}"), VALUES, max_size=3).map(
    lambda extra: SMALL_APP | extra
)
BAD = st.dictionaries(STRINGS.filter(lambda key: key not in ("app_id", "os")), VALUES, min_size=1, max_size=5)
ELEMENTS = GOOD | BAD | BAD | SCALARS | st.lists(VALUES, max_size=3)
DELIVERIES = st.lists(st.lists(ELEMENTS, max_size=4), max_size=5)


SURROGATE = re.compile("[\ud800-\udfff]")


def encode(groups: list[list[Any]], *, ascii_only: bool, indent: int | None, escape_slashes: bool) -> bytes:
    """The delivery as JSON text, in one of the ways an exporter may write it."""
    text = json.dumps(groups, ensure_ascii=ascii_only, indent=indent)
    if escape_slashes:
        text = text.replace("/", "\\/")  # "/" only occurs in strings, where "\/" is the same character
    return text.encode("utf-8", "surrogatepass" if not ascii_only else "strict")


class Trickle(io.BytesIO):
    """A stream whose reads return a few bytes at a time, so chunks end anywhere."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        super().__init__(data)
        self.sizes = sizes or [1]
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        return super().read(self.sizes[self.reads % len(self.sizes)])


def flatten(groups: list[list[Any]]) -> list[Any]:
    return [element for group in groups for element in group]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    groups=DELIVERIES,
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=8),
    ascii_only=st.booleans(),
    indent=st.none() | st.just(1),
    escape_slashes=st.booleans(),
)
def test_valid_deliveries_parse_like_json_loads_whatever_the_chunks(
    groups, sizes, ascii_only, indent, escape_slashes
):
    if SURROGATE.search(json.dumps(groups, ensure_ascii=False)):
        ascii_only = True  # a lone surrogate can only be written escaped
    data = encode(groups, ascii_only=ascii_only, indent=indent, escape_slashes=escape_slashes)
    expected = flatten(json.loads(data))
    if not expected and data.translate(None, b" \n[],"):
        return  # only non-array groups: refused as having no app objects, tested below
    items = list(parse_delivery(Trickle(data, sizes)))
    assert [item.position for item in items] == list(range(len(expected)))
    for item, element in zip(items, expected, strict=True):
        if isinstance(element, dict) and element.get("app_id") == SMALL_APP["app_id"]:
            assert isinstance(item, Accepted), item
        else:
            assert isinstance(item, Quarantined), item
            assert json.loads(item.raw) == element


@settings(max_examples=150, deadline=None, database=None)
@given(groups=DELIVERIES, at=st.integers(0, 5), sizes=st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_a_group_that_is_an_object_is_refused_wherever_it_is(groups, at, sizes):
    groups.insert(min(at, len(groups)), {"item": app(2)})  # type: ignore[arg-type]
    data = encode(groups, ascii_only=True, indent=None, escape_slashes=False)
    with pytest.raises(FileRejected, match=r"^wrong shape: a group is an object, expected an array"):
        list(parse_delivery(Trickle(data, sizes)))


def split_everywhere(data: bytes) -> list[list[bytes]]:
    return [[data[:cut], data[cut:]] for cut in range(1, len(data))]


class Chunks:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = iter(chunks)

    def read(self, size: int = -1) -> bytes:
        return next(self.chunks, b"")


def drain(guard: ShapeGuard) -> bytes:
    out = b""
    while data := guard.read(65536):
        out += data
    return out


@pytest.mark.parametrize(
    "text",
    [
        r'"a\"[b"',
        r'"\\"',
        r'"\\\"]"',
        r'"\\\\\\"',
        r'"x\u005b\"{"',
        '"caf\xc3\xa9 [\\n]"',
        r'"\/\b\f\n\r\t\u00e9 ]]]"',
        r'"n\nn\\n\"n"',
    ],
)
def test_strings_split_at_every_byte_never_fool_the_guard(text):
    data = (
        b'[[{"name": '
        + text.encode("latin-1")
        + b', "x": [[1], {"y": "}"}]}, '
        + text.encode("latin-1")
        + b"]]"
    )
    json.loads(data)
    for chunks in split_everywhere(data):
        assert drain(ShapeGuard(Chunks(chunks))) == data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b'[{"app_id": 1}, {"app_id": 2}]',
            "a group is an object, expected an array of app objects (near byte 1",
        ),
        (b'[{"item": {"app_id": 1}}]', "a group is an object"),
        (
            b'[[], [{"a": "]"}], {"a": 1}]',
            "a group is an object, expected an array of app objects (near byte 19",
        ),
        (b"[" + b"[" * (MAX_DEPTH + 5), f"values nest more than {MAX_DEPTH} deep"),
        (b'{"item": [[1]]}', "the top level is an object"),
        (b'"' + b"[" * 100 + b'"', "the top level is a string"),
        (b"[1, 2]", "the file holds no app object"),
        (b'[[], "x", [], 3]', "the file holds no app object"),
    ],
)
def test_each_wrong_shape_is_refused_with_its_reason(data, expected):
    with pytest.raises(FileRejected) as caught:
        list(parse_delivery(io.BytesIO(data)))
    assert caught.value.reason.startswith("wrong shape: ")
    assert expected in caught.value.reason


@pytest.mark.parametrize("data", [b"[]", b" [ ] ", b"[[]]", b"[[], [ ], []]"])
def test_empty_deliveries_are_valid(data):
    assert list(parse_delivery(io.BytesIO(data))) == []


def test_the_elements_before_a_wrong_group_are_parsed_first():
    data = delivery([[app(1), app(2)]])[:-1] + b', {"app_id": 3}]'
    items = parse_delivery(io.BytesIO(data))
    assert [type(next(items)) for _ in range(2)] == [Accepted, Accepted]
    with pytest.raises(FileRejected, match=r"after 2 app objects"):
        next(items)


@pytest.mark.parametrize(
    "data",
    [
        b'[[1,}, {"app_id": 1}]',
        # Found by the fuzzer: a backslash outside any string, which the fast path and the exact replay
        # read differently (both agree on every valid text).
        b'[[1, \\"], {"c": 0}]',
    ],
)
def test_broken_json_before_a_wrong_group_is_reported_as_broken_json(data):
    with pytest.raises(FileRejected, match=r"^not valid JSON"):
        list(parse_delivery(io.BytesIO(data)))


# The guard counts from the end of the read in which a value began, and refuses it in a read that holds
# nothing but the value: a value may pass the bound by up to two reads (128 KiB) unrefused.
OVER = 2 * 65_536


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (app(1, description="x" * (MAX_VALUE_BYTES + OVER)), "an app object larger than 1 MiB of JSON"),
        ("x" * (MAX_VALUE_BYTES + OVER), "a string larger than 1 MiB"),
        ([["x"] * (MAX_VALUE_BYTES // 4)], "an array in a group larger than 1 MiB"),
    ],
)
def test_a_value_larger_than_the_bound_is_refused_before_it_is_built(element, expected):
    data = delivery([[app(1)], [app(2), element, app(3)]])
    items = parse_delivery(io.BytesIO(data))
    assert isinstance(next(items), Accepted)
    with pytest.raises(FileRejected, match=f"^wrong shape: {expected}"):
        list(items)


def test_a_number_larger_than_the_bound_is_refused():
    data = b"[[1, " + b"7" * (MAX_VALUE_BYTES + OVER) + b"]]"
    with pytest.raises(FileRejected, match=r"^wrong shape: a single value larger than 1 MiB"):
        list(parse_delivery(io.BytesIO(data)))


def test_values_just_under_the_bound_pass():
    big = app(1, description="x" * (MAX_VALUE_BYTES - 10_000))
    data = delivery([[big, "y" * (MAX_VALUE_BYTES - 10)], [" " * 10]])
    data = data[:-1] + b" " * (3 * MAX_VALUE_BYTES) + b"]"  # whitespace is not a value
    assert [type(item) for item in parse_delivery(io.BytesIO(data))] == [Accepted, Quarantined, Quarantined]


def test_groups_may_be_any_size():
    groups = [[{}] * 200_000, [app(1)] * 3]
    items = list(parse_delivery(io.BytesIO(delivery(groups))))
    assert len(items) == 200_003
    assert [i.position for i in items[-3:]] == [200_000, 200_001, 200_002]


def test_the_guard_hands_on_exactly_what_it_reads_in_chunks_of_any_size():
    data = delivery([[app(n, description=f"[{n}" + '\\"' * n) for n in range(30)] for _ in range(3)])
    rng = random.Random(7)
    chunks, at = [], 0
    while at < len(data):
        step = rng.choice([1, 2, 3, 7, 100, 5000, 70_000])
        chunks.append(data[at : at + step])
        at += step
    assert drain(ShapeGuard(Chunks(chunks))) == data


def test_wrong_shape_carries_the_offset():
    guard = ShapeGuard(Chunks([b'[[1], {"a": 1}]']))
    assert guard.read(100) == b"[[1], "
    with pytest.raises(WrongShape) as caught:
        guard.read(100)
    assert caught.value.offset == 6


@pytest.mark.parametrize("height", [3, 8, 9, 12, 40])
def test_values_of_any_height_up_to_the_limit_are_followed_exactly(height: int) -> None:
    # The walk skips whole values with a regex of height 8 and goes bracket by bracket above it; a
    # regex that repeated a closer instead of a pair once matched 8 openers and 9 closers, and refused
    # such a file as "a group is an object" once a read ended inside a group.
    element = b"{" * (height // 2) + b"[" * (height - height // 2)
    element += b"]" * (height - height // 2) + b"}" * (height // 2)
    data = b"[[" + b",".join([element] * 20_000) + b"],[" + element + b"]]"
    guard = ShapeGuard(io.BytesIO(data))
    read = b""
    while chunk := guard.read(65536):
        read += chunk
    assert read == data
