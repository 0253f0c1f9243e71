"""The largest game and import the catalog can store fit one page many times over.

A page always holds at least one item (gamekit.paging.pages); these build the largest item the input limits
allow, every character four bytes of UTF-8, and check it against the byte budget of a page.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.domain import validation
from catalog.model import Game, GameFields, Import, ImportSource, ImportState, Platform
from catalog.transport import converters
from gamekit.errors import InvalidArgument
from gamekit.paging.pages import MAX_MESSAGE_BYTES, PageBudget

WIDE = "😀"  # four bytes of UTF-8
BIGGEST = 2**63 - 1
NOW = datetime(2026, 12, 1, tzinfo=UTC)
BUDGET = PageBudget(converters.wire_size).bytes


def largest_fields() -> GameFields:
    url = "https://cdn.example.com/" + WIDE * (validation.MAX_URI - len("https://cdn.example.com/"))
    return GameFields(
        display_name=WIDE * validation.MAX_NAME,
        platform=Platform.ANDROID,
        store_id=WIDE * validation.MAX_STORE_ID,
        bundle_id=WIDE * validation.MAX_TEXT,
        publisher_id=WIDE * validation.MAX_TEXT,
        publisher_name=WIDE * validation.MAX_TEXT,
        app_version=WIDE * validation.MAX_TEXT,
        rating=5.0,
        rating_count=BIGGEST,
        release_time=NOW,
        store_update_time=NOW,
        categories=(WIDE * validation.MAX_CATEGORY,) * validation.MAX_CATEGORIES,
        icon_uri=url,
        store_uri=url,
        price=1e9,
        in_app_purchases=True,
        best_rank=validation.MAX_INT32,
    )


def test_the_largest_storable_game_is_far_below_a_page() -> None:
    fields = largest_fields()
    assert validation.field_violations(fields) == [], "every field is at its limit, not past it"
    game = Game(BIGGEST, fields, "e" * 32, NOW, NOW, last_import_id=BIGGEST)
    size = converters.wire_size(game)
    assert size > 90_000, "the limits allow about 100 kB"
    assert size * 10 < BUDGET


def test_the_largest_storable_import_is_far_below_a_page() -> None:
    source = ImportSource(
        **{name: WIDE * (limit // 4) for name, limit in validation.MAX_SOURCE_BYTES.items()}
    )
    validation.validate_source(source)
    record = Import(BIGGEST, source, ImportState.ROLLED_BACK, *(BIGGEST,) * 4, NOW, NOW, BIGGEST)
    assert converters.wire_size(record) * 1000 < MAX_MESSAGE_BYTES, "a page of 1000 imports always fits"


@pytest.mark.parametrize("name", sorted(validation.MAX_SOURCE_BYTES))
def test_an_import_source_past_s3_limits_is_refused(name: str) -> None:
    limit = validation.MAX_SOURCE_BYTES[name]
    with pytest.raises(InvalidArgument) as refused:
        validation.validate_source(ImportSource(**{name: "é" * (limit // 2 + 1)}))
    assert [v.field for v in refused.value.violations] == [f"header.source.{name}"]
