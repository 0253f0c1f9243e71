"""Strict on identity, tolerant on description: what each drifting shape becomes, and what it notes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from ingestion.parsing.app_record import CONVERTED, DROPPED, AppReader
from ingestion.parsing.records import Accepted, Quarantined
from ingestion.parsing.values import SHAPES
from tests.factories.deliveries import app
from tests.factories.dirty import dirty_delivery, drifting_deliveries
from tests.unit.ingestion.parsing import DESCRIPTIVE, accepted, one, parse

JULY_6 = datetime(2016, 7, 6, tzinfo=UTC)


def drift_of(item: Accepted) -> set[tuple[str, str, str]]:
    return {(d.field, d.shape, d.action) for d in item.drift}


def converted(field: str, shape: str) -> set[tuple[str, str, str]]:
    return {(field, shape, CONVERTED)}


def dropped(field: str, shape: str) -> set[tuple[str, str, str]]:
    return {(field, shape, DROPPED)}


def case(field: str, delivered: object, expected: object, drift: set[tuple[str, str, str]]) -> object:
    return pytest.param(field, delivered, expected, drift, id=f"{field}={delivered!r}"[:60])


DECISIONS = [
    # Ids: a positive integer or a non-blank string, either on either platform.
    case("publisher_id", 300_000_005, "300000005", set()),
    case("publisher_id", "Studio+5", "Studio+5", set()),
    case("publisher_id", 12.0, "12", set()),
    case("publisher_id", 12.5, "", dropped("publisher_id", "a number with a fraction")),
    case("publisher_id", -3, "", dropped("publisher_id", "a number out of range")),
    case("publisher_id", {"id": 1}, "", dropped("publisher_id", "an object")),
    case("publisher_id", "  ", "", set()),
    # Text: a number becomes its JSON spelling as parsed.
    case("bundle_id", 12, "12", converted("bundle_id", "a number")),
    case("version", 2.1, "2.1", converted("version", "a number")),
    case("version", 1.0, "1.0", converted("version", "a number")),
    case("version", 3, "3", converted("version", "a number")),
    case("version", True, "", dropped("version", "a boolean")),
    case("version", ["1.0"], "", dropped("version", "an array")),
    case("publisher_name", "Evil\x00Corp", "", dropped("publisher_name", "text with a NUL character")),
    case("publisher_name", "p" * 2001, "", dropped("publisher_name", "text over 2000 characters")),
    case("publisher_name", "Bad\udc05", "", dropped("publisher_name", "text with unrepairable escapes")),
    case("bundle_id", "com.\x00evil", "", dropped("bundle_id", "text with a NUL character")),
    # Numbers: numeric strings converted, anything out of range or not a number dropped.
    case("rating", 4, 4.0, set()),
    case("rating", "4.5", 4.5, converted("rating", "a numeric string")),
    case("rating", " 4.5", 4.5, converted("rating", "a numeric string")),
    case("rating", 7, None, dropped("rating", "a number out of range")),
    case("rating", "7", None, dropped("rating", "a number out of range")),
    case("rating", "abc", None, dropped("rating", "a string")),
    case("rating", "nan", None, dropped("rating", "a string")),
    case("rating", "4.5.1", None, dropped("rating", "a string")),
    case("rating", True, None, dropped("rating", "a boolean")),
    case("rating", {"average": 4}, None, dropped("rating", "an object")),
    case("rating", [4.5], None, dropped("rating", "an array")),
    case("rating", "", None, set()),
    case("rating_count", 12.0, 12, set()),
    case("rating_count", "12", 12, converted("rating_count", "a numeric string")),
    case("rating_count", "12.5", None, dropped("rating_count", "a number with a fraction")),
    case("rating_count", 2.5, None, dropped("rating_count", "a number with a fraction")),
    case("rating_count", -5, None, dropped("rating_count", "a number out of range")),
    case("rating_count", "12k", None, dropped("rating_count", "a string")),
    case("rank", "3", 3, converted("rank", "a numeric string")),
    case("rank", 0, None, dropped("rank", "a number out of range")),
    case("rank", 2**31, None, dropped("rank", "a number out of range")),
    case("rank", "first", None, dropped("rank", "a string")),
    case("price", "0.99", 0.99, converted("price", "a numeric string")),
    case("price", "$0.99", None, dropped("price", "a string")),
    case("price", -1, None, dropped("price", "a number out of range")),
    case("price", 1e10, None, dropped("price", "a number out of range")),
    # Dates: ISO-8601 or epoch seconds; numeric strings and epoch milliseconds converted.
    case("release_date", "2016-07-06T00:00:00Z", JULY_6, set()),
    case("release_date", "2016-07-06T02:00:00+02:00", JULY_6, set()),
    case("release_date", "20160706", JULY_6, set()),  # ISO basic, not 1970's epoch seconds
    case("release_date", 1467763200, JULY_6, set()),
    case("release_date", 1467763200.0, JULY_6, set()),
    case("release_date", "1467763200", JULY_6, converted("release_date", "a numeric string")),
    case("release_date", 1467763200000, JULY_6, converted("release_date", "epoch milliseconds")),
    case("release_date", "1467763200000", JULY_6, converted("release_date", "epoch milliseconds")),
    case("release_date", 99_999_999_999, datetime(5138, 11, 16, 9, 46, 39, tzinfo=UTC), set()),
    case(
        "release_date",
        100_000_000_000,
        datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC),
        converted("release_date", "epoch milliseconds"),
    ),
    case("release_date", "yesterday", None, dropped("release_date", "an unparseable date")),
    case("release_date", "2016-13-45", None, dropped("release_date", "an unparseable date")),
    case("release_date", "2016\udc8e", None, dropped("release_date", "an unparseable date")),
    case("release_date", 1e20, None, dropped("release_date", "a number out of range")),
    case("updated_date", [2016], None, dropped("updated_date", "an array")),
    case("updated_date", True, None, dropped("updated_date", "a boolean")),
    case("updated_date", {"seconds": 1}, None, dropped("updated_date", "an object")),
    case("updated_date", " ", None, set()),
    # Flags: true/false; "" unknown; 0/1 and the words true/false/1/0 converted; nothing guessed.
    case("in_app_purchases", False, False, set()),
    case("in_app_purchases", "", None, set()),
    case("in_app_purchases", "true", True, converted("in_app_purchases", "a string")),
    case("in_app_purchases", " FALSE ", False, converted("in_app_purchases", "a string")),
    case("in_app_purchases", "1", True, converted("in_app_purchases", "a string")),
    case("in_app_purchases", 0, False, converted("in_app_purchases", "a number")),
    case("in_app_purchases", 1.0, True, converted("in_app_purchases", "a number")),
    case("in_app_purchases", "yes", None, dropped("in_app_purchases", "a string")),
    case("in_app_purchases", 2, None, dropped("in_app_purchases", "a number out of range")),
    case("in_app_purchases", [], None, dropped("in_app_purchases", "an array")),
    # Categories: one value where the list was is a list of one; numbers become text.
    case("categories", ["Games", "Puzzle"], ("Games", "Puzzle"), set()),
    case("categories", "Games", ("Games",), converted("categories", "a string")),
    case("categories", "Jeux, Puzzle", ("Jeux, Puzzle",), converted("categories", "a string")),
    case("categories", 6014, ("6014",), converted("categories", "a number")),
    case("categories", ["Games", 7, 8.5], ("Games", "7", "8.5"), converted("categories", "a number")),
    case("categories", ["Games", None, "", "  "], ("Games",), set()),
    case(
        "categories",
        ["Games", ["x"], {"a": 1}, True],
        ("Games",),
        dropped("categories", "an array")
        | dropped("categories", "an object")
        | dropped("categories", "a boolean"),
    ),
    case("categories", ["Games", "c" * 201], ("Games",), dropped("categories", "text over 200 characters")),
    case("categories", ["Games", "Bad\x00"], ("Games",), dropped("categories", "text with a NUL character")),
    case("categories", {"primary": "Games"}, (), dropped("categories", "an object")),
    case("categories", True, (), dropped("categories", "a boolean")),
    case("categories", "", (), set()),
    case("categories", [], (), set()),
    # URLs: only a string is a URL; a string that is not a web URL stays a repair (below).
    case("icon_url", 12, "", dropped("icon_url", "a number")),
    case("url", {"href": "https://example.com"}, "", dropped("url", "an object")),
    case("icon_url", "https://example.com/\x00.png", "", dropped("icon_url", "text with a NUL character")),
]


@pytest.mark.parametrize(("field", "delivered", "expected", "drift"), DECISIONS)
def test_each_descriptive_shape_is_converted_or_dropped_never_quarantined(field, delivered, expected, drift):
    item = accepted(app(1, **{field: delivered}))
    assert getattr(item.record, DESCRIPTIVE[field]) == expected
    assert drift_of(item) == drift


def test_the_decision_table_uses_only_the_shape_vocabulary():
    shapes = {shape for *_, drift in (p.values for p in DECISIONS) for _, shape, _ in drift}
    assert shapes <= SHAPES


def test_more_than_fifty_categories_keep_the_first_fifty():
    item = accepted(app(1, categories=[f"c{i}" for i in range(60)]))
    assert item.record.categories == tuple(f"c{i}" for i in range(50))
    assert drift_of(item) == dropped("categories", "an array over 50 entries")


def test_a_field_drifting_several_ways_in_one_record_is_noted_once_per_shape():
    item = accepted(app(1, categories=[1, 2, "Games", 3.5, None, [1], [2]]))
    assert item.record.categories == ("1", "2", "Games", "3.5")
    assert [(d.field, d.shape, d.action) for d in item.drift] == [
        ("categories", "a number", CONVERTED),
        ("categories", "an array", DROPPED),
    ]


@pytest.mark.parametrize("unknown", [None, "absent"])
def test_absent_or_null_descriptive_fields_are_unknown_not_drift(unknown):
    element = app(1)
    for field in DESCRIPTIVE:
        if unknown == "absent":
            del element[field]
        else:
            element[field] = None
    item = accepted(element)
    assert item.drift == ()
    assert item.repairs == ()
    assert (item.record.publisher_id, item.record.categories, item.record.rating) == ("", (), None)


def test_every_descriptive_field_wrong_at_once_still_keeps_the_game():
    wrong = {field: {"unexpected": [1, 2]} for field in DESCRIPTIVE}
    item = accepted(app(1, **wrong))
    assert (item.record.store_id, item.record.display_name, item.record.platform) == (
        "1100000001",
        "Game 1",
        "ios",
    )
    assert drift_of(item) == {(field, "an object", DROPPED) for field in DESCRIPTIVE}


def test_a_value_dropped_after_its_repair_lists_no_repair():
    item = accepted(app(1, publisher_name="Soci\udc8et\udc8e " + "x" * 2000, bundle_id="com.caf\udcc3\udca9"))
    assert item.record.publisher_name == ""
    assert [(r.field, r.repaired) for r in item.repairs] == [("bundle_id", "com.café")]
    assert drift_of(item) == dropped("publisher_name", "text over 2000 characters")


def test_a_single_category_string_is_repaired_under_the_field_name():
    item = accepted(app(1, categories="Jeux d\udc8ecal\udc8es"))
    assert item.record.categories == ("Jeux décalés",)
    assert [(r.field, r.repaired, r.encoding) for r in item.repairs] == [
        ("categories", "Jeux décalés", "mac_roman")
    ]


def test_a_url_that_is_not_a_web_url_stays_a_repair_not_drift():
    item = accepted(app(1, icon_url="javascript:alert(1)"))
    assert [(r.field, r.repaired, r.encoding) for r in item.repairs] == [("icon_url", "", "dropped")]
    assert item.drift == ()


def test_the_canonical_shapes_of_both_platforms_are_not_drift():
    for platform in ("ios", "android"):
        item = accepted(app(7, platform, in_app_purchases="", price=0))
        assert item.drift == (), platform


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": "Evil\x00Game"}, "bad name: contains a NUL character"),
        ({"name": None, "humanized_name": "Bad\udc05"}, 'unrepairable humanized_name "Bad\\udc05": \\udc05'),
        ({"name": None, "humanized_name": 7}, "bad humanized_name: expected a string, got a number"),
        ({"app_id": "com.\x00evil"}, "bad app_id: contains a NUL character"),
        ({"app_id": "id\udc05"}, 'unrepairable app_id "id\\udc05": \\udc05'),
        ({"app_id": 0}, "bad app_id: 0 is not positive"),
        ({"app_id": 12.5}, "bad app_id: 12.5 has a fraction (expected an integer or a string)"),
        ({"app_id": True}, "bad app_id: expected an integer or a string, got a boolean"),
        ({"os": ["ios"]}, "bad os: [\"ios\"] (expected 'ios' or 'android')"),
        ({"os": "io\udc8e"}, "bad os: \"io\\udc8e\" (expected 'ios' or 'android')"),
    ],
)
def test_identity_stays_strict_with_its_reasons(overrides, expected):
    item = one(app(1, **overrides))
    assert isinstance(item, Quarantined), item
    assert expected in item.reason


def test_a_quarantined_app_lists_only_identity_problems():
    item = one(app(1, app_id=None, rating="abc", categories={"x": 1}))
    assert isinstance(item, Quarantined)
    assert item.reason == "missing app_id"


def test_the_reader_notes_drift_on_its_own():
    reader = AppReader({"app_id": 1, "os": "ios", "name": "x", "rating": "4", "rank": {}})
    record = reader.record()
    assert reader.problems == []
    assert (record.rating, record.best_rank) == (4.0, None)
    assert [(d.field, d.shape, d.action) for d in reader.drift] == [
        ("rating", "a numeric string", CONVERTED),
        ("rank", "an object", DROPPED),
    ]


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_the_dirty_delivery_notes_the_drift_it_promises(platform):
    data, expect = dirty_delivery(platform)
    got = {i.position: frozenset(drift_of(i)) for i in parse(data) if isinstance(i, Accepted) and i.drift}
    assert got == expect.drift


@pytest.mark.parametrize("day", [1, 2])
def test_drifting_deliveries_keep_every_app_and_note_its_drift(day):
    for file in drifting_deliveries(day):
        items = parse(file.data)
        assert len(items) == file.elements
        assert all(isinstance(i, Accepted) for i in items), [i for i in items if isinstance(i, Quarantined)]
        assert {i.position: frozenset(drift_of(i)) for i in items if isinstance(i, Accepted)} == file.drift
        assert {i.record.platform for i in items if isinstance(i, Accepted)} == {file.platform}


def test_the_same_field_drifts_between_platforms_and_days():
    summary: dict[str, Counter[tuple[str, str, str]]] = {}
    for day in (1, 2):
        for file in drifting_deliveries(day):
            summary[file.key] = Counter(
                d for i in parse(file.data) if isinstance(i, Accepted) for d in drift_of(i)
            )
    # A file's summary: field x shape -> how many records.
    assert summary["2026-11-24/ios.top100.json"][("version", "a number", CONVERTED)] == 16
    assert ("version", "a number", CONVERTED) not in summary["2026-11-24/android.top100.json"]
    assert summary["2026-11-24/android.top100.json"][("categories", "a string", CONVERTED)] == 16
    assert summary["2026-11-25/ios.top100.json"][("categories", "a string", CONVERTED)] == 16
    assert summary["2026-11-25/android.top100.json"][("categories", "a number", CONVERTED)] == 16
    assert summary["2026-11-25/android.top100.json"][("rating", "a number out of range", DROPPED)] == 8
    assert summary["2026-11-25/ios.top100.json"][("rating_count", "an object", DROPPED)] == 16


def test_categories_past_fifty_are_dropped_before_any_repair():
    item = accepted(app(1, categories=[*(f"c{i}" for i in range(50)), "Jeux d\udc8ecal\udc8es"]))
    assert len(item.record.categories) == 50
    assert item.repairs == ()
    assert drift_of(item) == dropped("categories", "an array over 50 entries")
