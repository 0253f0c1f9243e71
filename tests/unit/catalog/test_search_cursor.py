"""Search page tokens: every cursor survives its token; any other shape under a valid MAC is refused."""

import json

import pytest

from catalog.storage.search import SearchCursor, Tier

CURSORS = [
    SearchCursor(Tier.NAME, "pokemon go", 7),
    SearchCursor(Tier.WORD, "quest", 2**62),
    SearchCursor(Tier.SIMILAR, 1.6000000238418579, 3, ("pokemon", "pokemonish")),
    SearchCursor(Tier.SIMILAR, 0.4, 3, ()),
]


@pytest.mark.parametrize("cursor", CURSORS)
def test_a_cursor_survives_its_token(cursor):
    assert SearchCursor.from_token(json.loads(json.dumps(cursor.to_token()))) == cursor


@pytest.mark.parametrize(
    "token",
    [
        [],
        [1, "a"],
        [0, "a", 1],
        [4, "a", 1],
        [True, "a", 1],
        [1, "a", True],
        [1, "a", 1.0],
        [1, 0.5, 1],
        [1, "a", 1, []],
        [3, 0.5, 1],
        [3, "0.5", 1, []],
        [3, True, 1, []],
        [3, 0.5, 1, "pokemon"],
        [3, 0.5, 1, [1]],
        [3, 0.5, 1, [], "extra"],
    ],
)
def test_any_other_shape_is_refused(token):
    assert SearchCursor.from_token(token) is None
