"""Lone surrogate escapes: through the parser on real bytes, then repaired by the documented rule."""

from __future__ import annotations

import io
import json
import random

import ijson
import pytest
from ijson.backends import python as python_backend
from ijson.backends import yajl2_c

from ingestion.parsing.surrogates import (
    MARK,
    ShieldedStream,
    Unrepairable,
    repair_text,
    restore_deep,
    show_escapes,
)

TRICKY = (
    rb'["Pok\udc8emon GO", "Caf\udcc3\udca9", "\ud83c\udfae", "a\ud83cb", "lit \\udc8e", "x\\\udc8e",'
    rb' "\uFDD0\udc8e", "\uDC8E\uD83C", "\ud83c\ud83c\udfae", "\u00e9\"\\", "\\\\\udc8e", "\\\\",'
    rb' "\ufdd0", "' + MARK.encode() + rb'dc8e", "\udfff\ud800"]'
)


def parsed(data: bytes, chunk_size: int = 64 * 1024, backend=yajl2_c) -> object:
    return restore_deep(list(backend.items(ShieldedStream(io.BytesIO(data), chunk_size), "item")))


def test_the_c_backend_is_the_one_in_use():
    assert ijson.backend == "yajl2_c"


def test_without_the_shield_yajl2_c_rejects_a_lone_low_surrogate_and_mangles_a_lone_high_one():
    # Why the shield exists: the C backend cannot carry lone surrogates itself.
    with pytest.raises(UnicodeDecodeError):
        list(yajl2_c.items(io.BytesIO(rb'["Pok\udc8emon"]'), "item"))
    assert list(yajl2_c.items(io.BytesIO(rb'["a\ud83cb"]'), "item")) == ["a?b"]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 7, 11, 12, 13, 64 * 1024])
def test_the_shield_round_trips_every_string_exactly_at_any_chunk_boundary(chunk_size):
    # json.loads keeps lone surrogates as they are: the reference for what the file says.
    assert parsed(TRICKY, chunk_size) == json.loads(TRICKY)


@pytest.mark.parametrize("backend", [yajl2_c, python_backend], ids=["yajl2_c", "python"])
def test_the_shield_works_whatever_the_backend(backend):
    assert parsed(TRICKY, 7, backend) == json.loads(TRICKY)


def test_random_escape_soup_round_trips():
    rng = random.Random(7)
    atoms = [rb"\udc8e", rb"\ud83c", rb"\ud83c\udfae", rb"\\", rb"\"", rb"\u00e9", b"a", b"u", b"dc8e",
             rb"\ufdd0", MARK.encode(), "é".encode(), rb"\n"]  # fmt: skip
    strings = [
        b'"' + b"".join(rng.choice(atoms) for _ in range(rng.randint(0, 12))) + b'"' for _ in range(300)
    ]
    data = b"[" + b",".join(strings) + b"]"
    for chunk_size in (1, 4, 9, 13, 100):
        assert parsed(data, chunk_size) == json.loads(data)


def test_the_shield_drops_a_byte_order_mark_and_answers_empty_reads():
    shield = ShieldedStream(io.BytesIO(b"\xef\xbb\xbf[[]]"), chunk_size=1)
    assert shield.read(0) == b""
    assert list(yajl2_c.items(shield, "item")) == [[]]
    assert shield.consumed == 7


@pytest.mark.parametrize(
    ("text", "repaired", "encoding"),
    [
        ("Pok\udc8emon GO", "Pokémon GO", "mac_roman"),
        ("Caf\udcc3\udca9 Quest", "Café Quest", "utf-8"),
        ("Soci\udc8et\udc8e", "Société", "mac_roman"),
        ("\udc8e\udc8e", "éé", "mac_roman"),  # not valid UTF-8 as a run
        ("\udce2\udc82\udcac 5", "€ 5", "utf-8"),
        ("\udca5 Tower", "• Tower", "mac_roman"),  # punctuation counts as printable
    ],
)
def test_repairable_runs(text, repaired, encoding):
    assert repair_text(text) == (repaired, encoding)


@pytest.mark.parametrize("text", ["Arcade 🎮 Night", "plain", "", "lit \\udc8e"])
def test_text_without_lone_surrogates_is_left_alone(text):
    assert repair_text(text) == (text, None)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Bad\udc05Name", "byte 0x05, below 0x80"),
        ("Star \ud83d Rider", "\\ud83d is a lone surrogate"),
        ("x\udfffy", "\\udfff is a lone surrogate"),
        ("Apple \udcf0", "U+F8FF, not a printable character"),  # Mac Roman 0xF0 is a private-use char
        ("x\udcc2\udc80y", "0xC2 0x80 decode (utf-8) to U+0080"),  # a C1 control
        ("nb\udccasp", "U+00A0"),  # no-break space: not a letter, mark, number, punctuation or symbol
        ("Caf\udcc3\udca9 Pok\udc8emon", "mixes UTF-8 and Mac OS Roman"),
    ],
)
def test_unrepairable_runs_say_why(text, why):
    with pytest.raises(Unrepairable, match=None) as caught:
        repair_text(text)
    assert why in str(caught.value)


def test_show_escapes_writes_surrogates_as_escape_text():
    assert show_escapes("Pok\udc8emon 🎮") == "Pok\\udc8emon 🎮"
