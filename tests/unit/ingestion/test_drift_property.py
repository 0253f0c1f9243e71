"""Any JSON value in any descriptive field: never quarantined, never raising, always importable."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.domain.validation import field_violations
from catalog.transport.converters import game_fields
from gamekit.errors import FieldViolation
from games.catalog.v1 import catalog_pb2 as pb
from ingestion.importing.catalog_game import game_from_record
from ingestion.parsing.app_record import CONVERTED, DROPPED, AppReader, GameRecord
from ingestion.parsing.records import Accepted, parse_delivery
from ingestion.parsing.surrogates import MARK
from ingestion.parsing.values import SHAPES
from tests.factories.deliveries import delivery
from tests.unit.ingestion.parsing import DESCRIPTIVE

# Values that reach every branch: numeric and date strings, flags' words, URLs, caps, escapes, NULs.
TRICKY = [
    "", "  ", "4.5", "-1", "12", "12.5", "1e999", "nan", "1467763200", "1467763200000", "20160706",
    "2016-07-06T00:00:00+02:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "true",
    " FALSE ", "1", "yes", "https://cdn.example.com/i.png", "javascript:alert(1)", "http://[::1",
    "Pok\udc8emon", "Caf\udcc3\udca9", "Bad\udc05", "\ud83d", "\x00", "x" * 2000, "x" * 2001, "c" * 200,
    "c" * 201, MARK + "dc8e", MARK + MARK, "https://x.example/" + "a" * 2048,
]  # fmt: skip
CHARACTERS = st.characters(exclude_categories=()) | st.sampled_from(["\udc8e", "\udcc3", "\x00", MARK, " "])
# Tricky strings drawn as often as arbitrary ones: the caps and escapes are where bugs would be.
STRINGS = st.sampled_from(TRICKY) | st.text(CHARACTERS, max_size=20)
# Small numbers too, around the ranges of ratings, flags and ranks.
SMALL = st.integers(-3, 12) | st.floats(-1, 11)
NUMBERS = (
    SMALL
    | st.integers()
    | st.integers(-(2**63), 2**63)
    | st.floats()
    | st.sampled_from([0, 1, 5, 2**31, 1e9, 1e11, 1467763200, 1467763200000, 1e20, -0.0])
)


ABSENT = object()


def json_values(strings: st.SearchStrategy[str], numbers: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Any JSON value: null, booleans, numbers, strings, and arrays and objects of them."""
    scalars = st.none() | st.booleans() | numbers | strings | strings
    nested = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=6) | st.dictionaries(strings, inner, max_size=4),
        max_leaves=12,
    )
    # Hypothesis's recursive values are mostly containers; a drifting field is mostly a scalar.
    return scalars | scalars | nested


def apps(numbers: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An app object with a valid identity and anything, or nothing, in every other field."""
    values = json_values(STRINGS, numbers)
    identity = st.fixed_dictionaries(
        {
            "app_id": st.sampled_from([1_100_000_001, "com.studio.game1", 42.0]),
            "os": st.sampled_from(["ios", "android", " iOS "]),
            "name": st.sampled_from(["Game 1", "Pok\udc8emon GO", "  Spaced  "]),
        }
    )
    # Long arrays too, around the catalog's 50 categories, which small recursive values never reach.
    long_lists = st.lists(st.text(max_size=4) | numbers, min_size=45, max_size=60)
    fields = {field: values | values | values | st.just(ABSENT) for field in DESCRIPTIVE}
    fields["categories"] = fields["categories"] | long_lists
    described = st.fixed_dictionaries(fields)
    unknown = st.dictionaries(st.text(max_size=8), values, max_size=3)

    def app(unknown: dict[str, Any], described: dict[str, Any], identity: dict[str, Any]) -> dict[str, Any]:
        present = {field: value for field, value in described.items() if value is not ABSENT}
        return {**unknown, **present, **identity}

    return st.builds(app, unknown, described, identity)


def catalog_violations(record: GameRecord) -> list[FieldViolation]:
    """What the catalog's own import validation says of the record, after a trip over the wire."""
    game = pb.Game.FromString(game_from_record(record).SerializeToString())
    return field_violations(game_fields(game))


def check_drift(app: dict[str, Any], drift: list[tuple[str, str, str]]) -> None:
    for field, shape, action in drift:
        assert field in DESCRIPTIVE, field
        assert app.get(field) is not None, f"{field} was absent or null yet noted"
        assert shape in SHAPES, shape
        assert action in (CONVERTED, DROPPED), action
    assert len(set(drift)) == len(drift), "a record notes each field and shape once"


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(apps(NUMBERS))
def test_any_descriptive_value_keeps_the_app_and_passes_the_catalog(app: dict[str, Any]) -> None:
    reader = AppReader(app)
    record = reader.record()
    assert reader.problems == []
    assert catalog_violations(record) == []
    check_drift(app, [(d.field, d.shape, d.action) for d in reader.drift])


# What the parser can deliver: yajl refuses the whole file past ±(2**63 - 1) or a non-finite float.
PARSED_NUMBERS = (
    SMALL | st.integers(-(2**63) + 1, 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(apps(PARSED_NUMBERS))
def test_through_the_parser_every_such_app_is_accepted(app: dict[str, Any]) -> None:
    (item,) = parse_delivery(io.BytesIO(delivery([[app]])))
    assert isinstance(item, Accepted), item
    assert catalog_violations(item.record) == []
    check_drift(app, [(d.field, d.shape, d.action) for d in item.drift])
