from datetime import datetime

import pytest

from catalog.domain import validation
from catalog.model import GameFields, Platform
from gamekit.errors import InvalidArgument


def fields(**overrides):
    values = {"display_name": "Pokémon GO", "platform": Platform.IOS, "store_id": "123"}
    values.update(overrides)
    return GameFields(**values)


def test_valid_game_has_no_violations():
    full = fields(
        icon_uri="https://example.com/i.png",
        store_uri="http://example.com/app",
        categories=("Games", "Adventure"),
        rating=5.0,
        rating_count=0,
        price=0.0,
        best_rank=1,
        release_time=datetime.fromisoformat("2016-07-06T00:00:00+00:00"),
    )
    assert validation.field_violations(full) == []


def test_every_violation_is_reported_at_once():
    bad = fields(
        display_name=" ",
        store_id="x" * 201,
        bundle_id="a\x00b",
        icon_uri="ftp://example.com/x",
        store_uri="not a url",
        categories=("ok", "y" * 201),
        rating=5.5,
        rating_count=-1,
        price=float("nan"),
        best_rank=0,
        release_time=datetime(2020, 1, 1),
    )
    with pytest.raises(InvalidArgument) as info:
        validation.validate_fields(bad)
    assert {v.field for v in info.value.violations} == {
        "display_name",
        "store_id",
        "bundle_id",
        "icon_uri",
        "store_uri",
        "categories[1]",
        "rating",
        "rating_count",
        "price",
        "best_rank",
        "release_time",
    }


def test_long_and_nul_strings():
    violations = validation.field_violations(fields(display_name="x" * 1_000_000, publisher_name="\x00"))
    assert [(v.field, v.description) for v in violations] == [
        ("display_name", "must be at most 500 characters"),
        ("publisher_name", "must not contain NUL characters"),
    ]
    too_many = validation.field_violations(fields(categories=tuple(str(i) for i in range(51))))
    assert [v.field for v in too_many] == ["categories"]


def test_update_mask_rules():
    with pytest.raises(InvalidArgument) as info:
        validation.validate_update(fields(), [])
    assert info.value.violations[0].field == "update_mask"
    with pytest.raises(InvalidArgument) as info:
        validation.validate_update(fields(), ["store_id", "rating"])
    assert info.value.violations[0].field == "update_mask"
    assert "store_id" in info.value.violations[0].description
    # Only masked fields are validated: an empty display_name is fine when not in the mask.
    validation.validate_update(fields(display_name=""), ["rating"])
    with pytest.raises(InvalidArgument) as info:
        validation.validate_update(fields(rating=9.0), ["rating"])
    assert info.value.violations[0].field == "rating"


def test_batch_violations_name_the_game():
    with pytest.raises(InvalidArgument) as info:
        validation.validate_batch([fields(), fields(display_name="")], batch_number=3)
    assert info.value.violations[0].field == "batch.games[1].display_name"
    assert "batch 3" in info.value.message


def test_request_id_must_be_a_uuid():
    assert str(validation.request_id("6f1c43e2-7c55-4d2e-9a51-1f2a3b4c5d6e")).startswith("6f1c43e2")
    for bad in ["", "abc"]:
        with pytest.raises(InvalidArgument) as info:
            validation.request_id(bad)
        assert info.value.violations[0].field == "request_id"
