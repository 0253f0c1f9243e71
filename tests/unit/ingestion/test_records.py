"""parse_delivery on real bytes: records, repairs, quarantine reasons, positions and rejected files."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime
from typing import BinaryIO, cast

import pytest

from ingestion.parsing.records import Accepted, FileRejected, GameRecord, Quarantined, Repair, parse_delivery
from tests.factories.deliveries import app, delivery, gzipped, raw_json_with_escapes
from tests.factories.dirty import dirty_delivery
from tests.unit.ingestion.parsing import accepted, one, parse


def reason(element: object) -> str:
    item = one(element)
    assert isinstance(item, Quarantined), item
    return item.reason


def rejected(data: bytes) -> str:
    with pytest.raises(FileRejected) as caught:
        parse(data)
    assert caught.value.reason == str(caught.value)
    return caught.value.reason


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_the_dirty_delivery_gives_exactly_what_it_promises(platform):
    data, expect = dirty_delivery(platform)
    items = parse(data)
    assert [item.position for item in items] == list(range(expect.elements))
    got_accepted = {i.position: i.record.display_name for i in items if isinstance(i, Accepted)}
    assert got_accepted == expect.accepted
    got_repairs = {
        i.position: tuple((r.field, r.repaired, r.encoding) for r in i.repairs)
        for i in items
        if isinstance(i, Accepted) and i.repairs
    }
    assert got_repairs == expect.repairs
    quarantined = {i.position: i.reason for i in items if isinstance(i, Quarantined)}
    assert quarantined.keys() == expect.quarantined.keys()
    for position, fragment in expect.quarantined.items():
        assert fragment in quarantined[position], (position, quarantined[position])
    # No dedupe here: each app recurs as often as the file has it; the catalog keeps the best rank.
    best: dict[str, int] = {}
    for item in items:
        if isinstance(item, Accepted):
            rank = item.record.best_rank
            assert rank is not None
            best[item.record.store_id] = min(rank, best.get(item.record.store_id, rank))
    assert best == {store_id: game.best_rank for store_id, game in expect.games.items()}


def test_a_full_ios_app_maps_every_field():
    delivered = app(5)
    record = accepted(delivered).record
    assert record == GameRecord(
        platform="ios",
        store_id=str(delivered["app_id"]),
        display_name=delivered["name"],
        bundle_id=delivered["bundle_id"],
        publisher_id=str(delivered["publisher_id"]),
        publisher_name=delivered["publisher_name"],
        app_version=delivered["version"],
        rating=delivered["rating"],
        rating_count=delivered["rating_count"],
        release_time=datetime(2016, 7, 6, tzinfo=UTC),  # "2016-07-06T00:00:00Z"
        store_update_time=datetime(2024, 5, 1, tzinfo=UTC),  # "2024-05-01T00:00:00Z"
        categories=tuple(delivered["categories"]),
        icon_uri=delivered["icon_url"],
        store_uri=delivered["url"],
        price=delivered["price"],
        in_app_purchases=delivered["in_app_purchases"],
        best_rank=delivered["rank"],
    )


def test_an_android_app_keeps_its_string_ids():
    record = accepted(app(5, "android")).record
    assert (record.platform, record.store_id, record.publisher_id) == (
        "android",
        "com.studio5.game5",
        "Studio+5",
    )


def test_positions_count_every_element_across_groups():
    items = parse(delivery([[app(1), 7], [], [{}, app(2)], [app(3)]]))
    assert [(type(i).__name__, i.position) for i in items] == [
        ("Accepted", 0),
        ("Quarantined", 1),
        ("Quarantined", 2),
        ("Accepted", 3),
        ("Accepted", 4),
    ]


def test_an_empty_array_is_a_file_with_no_records():
    assert parse(b"[]") == []
    assert parse(b" [ [ ] , [ ] ] \n") == []


def test_quarantine_keeps_the_raw_record_with_escapes_as_delivered():
    item = one(app(1, name="Bad\udc05 Pok\udc8emon", rating="abc"))
    assert isinstance(item, Quarantined)
    assert item.reason.startswith(
        'unrepairable name "Bad\\udc05 Pok\\udc8emon": \\udc05 would be the byte 0x05'
    )
    assert "rating" not in item.reason  # descriptive: dropped and noted as drift, never a reason
    assert item.raw.isascii()
    assert '"name": "Bad\\udc05 Pok\\udc8emon"' in item.raw
    assert json.loads(item.raw)["rating"] == "abc"


def test_quarantined_raw_is_capped_at_64_kib():
    item = one(app(1, app_id=None, description="x" * 100_000))
    assert isinstance(item, Quarantined)
    assert len(item.raw) == 64 * 1024
    assert item.raw.endswith("characters in all]")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"app_id": None}, "missing app_id"),
        ({"app_id": "  "}, "missing app_id"),
        ({"app_id": {"id": 1}}, "bad app_id: expected an integer or a string, got an object"),
        ({"app_id": -4}, "bad app_id: -4 is not positive"),
        ({"name": "", "humanized_name": ""}, "missing name"),
        ({"name": None, "humanized_name": "   "}, "missing name"),
        ({"os": None}, "missing os"),
        ({"os": 1}, "bad os: 1 (expected 'ios' or 'android')"),
        ({"app_id": "a" * 201}, "bad app_id: 201 characters long (at most 200)"),
        # Only identity refuses an app; descriptive fields are dropped as drift (test_drift.py).
    ],
)
def test_each_problem_is_quarantined_with_a_precise_reason(overrides, expected):
    assert expected in reason(app(1, **overrides))


def test_a_reason_shows_a_lone_surrogate_as_its_escape():
    element = raw_json_with_escapes(app(1), os=r"io\udc8e")
    assert reason(element) == "bad os: \"io\\udc8e\" (expected 'ios' or 'android')"


def test_several_problems_are_all_named():
    assert reason({"name": "x", "rating": "abc", "app_id": [1]}) == (
        "missing os; bad app_id: expected an integer or a string, got an array"
    )


def test_a_record_with_only_nulls_is_not_empty_but_missing_everything():
    assert reason({"app_id": None, "name": None, "os": None}) == "missing os; missing app_id; missing name"


@pytest.mark.parametrize("element", [0, "x", None, [app(1)], False])
def test_a_group_element_that_is_not_an_object_is_quarantined_not_fatal(element):
    assert reason(element).startswith("not an object: ")


def test_sloppy_but_unambiguous_values_are_accepted():
    record = accepted(
        app(1, rating=" 4.5", rating_count="12", rank="3", price="", in_app_purchases="", os=" iOS ",
            release_date=1467763200, updated_date="2016-07-06T02:00:00+02:00", app_id=1100000001.0)
    ).record  # fmt: skip
    assert (record.rating, record.rating_count, record.best_rank, record.price) == (4.5, 12, 3, None)
    assert record.in_app_purchases is None
    assert record.platform == "ios"
    assert record.store_id == "1100000001"
    assert record.release_time == datetime(2016, 7, 6, tzinfo=UTC)
    assert record.store_update_time == datetime(2016, 7, 6, tzinfo=UTC)
    assert record.store_update_time.tzinfo is UTC


def test_missing_optional_fields_are_empty_or_none():
    record = accepted({"app_id": 9, "os": "android", "humanized_name": "Only Humanized"}).record
    assert record == GameRecord(platform="android", store_id="9", display_name="Only Humanized")


def test_text_is_stripped_and_blank_categories_dropped():
    record = accepted(app(1, name="  Spaced  ", categories=[" Games ", "", "  "])).record
    assert record.display_name == "Spaced"
    assert record.categories == ("Games",)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.com/i.png",
        "https://",
        "http://exa mple.com",
        "https://x.com/" + "a" * 2048,
    ],
)
def test_a_url_that_is_not_a_web_url_is_dropped_and_noted(url):
    item = accepted(app(1, url=url))
    assert item.record.store_uri == ""
    assert item.repairs == (Repair("url", url[:2048] + ("..." if len(url) > 2048 else ""), "", "dropped"),)


def test_every_text_field_is_repaired_and_each_repair_recorded():
    element = raw_json_with_escapes(
        app(1, name=None, url="https://example.com/"),
        humanized_name=r"Pok\udc8emon",
        publisher_name=r"Soci\udc8et\udc8e",
        bundle_id=r"com.caf\udcc3\udca9",
        version=r"1\udca5",
        categories=["Games", r"Jeux d\udc8ecal\udc8es"],
        icon_url=r"https://cdn.example.com/caf\udcc3\udca9.png",
    )
    item = accepted(element)
    assert item.record.display_name == "Pokémon"
    assert item.record.categories == ("Games", "Jeux décalés")
    assert item.record.icon_uri == "https://cdn.example.com/café.png"
    assert {(r.field, r.original, r.repaired, r.encoding) for r in item.repairs} == {
        ("humanized_name", "Pok\\udc8emon", "Pokémon", "mac_roman"),
        ("publisher_name", "Soci\\udc8et\\udc8e", "Société", "mac_roman"),
        ("bundle_id", "com.caf\\udcc3\\udca9", "com.café", "utf-8"),
        ("version", "1\\udca5", "1•", "mac_roman"),
        ("categories[1]", "Jeux d\\udc8ecal\\udc8es", "Jeux décalés", "mac_roman"),
        (
            "icon_url",
            "https://cdn.example.com/caf\\udcc3\\udca9.png",
            "https://cdn.example.com/café.png",
            "utf-8",
        ),
    }


def test_an_unused_field_is_not_inspected():
    item = accepted(raw_json_with_escapes(app(1), humanized_name=r"Bad\udc05", description=r"x\udc05"))
    assert item.repairs == ()


def test_an_emoji_written_as_an_escaped_pair_or_raw_is_ordinary_text():
    assert (
        accepted(raw_json_with_escapes(app(1), name=r"Arcade \ud83c\udfae")).record.display_name
        == "Arcade 🎮"
    )
    assert accepted(app(1, name="Arcade 🎮")).repairs == ()


def test_an_escaped_backslash_before_udc_is_literal_text():
    item = accepted(raw_json_with_escapes(app(1), name=r"Back\\udc8eslash"))
    assert item.record.display_name == "Back\\udc8eslash"
    assert item.repairs == ()


def test_a_gzip_stream_parses_the_same():
    data, expect = dirty_delivery()
    with gzip.GzipFile(fileobj=io.BytesIO(gzipped(data))) as stream:
        # GzipFile reads like BinaryIO, which is all parse_delivery asks of it.
        assert len(list(parse_delivery(cast(BinaryIO, stream)))) == expect.elements


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty file: no JSON at all"),
        (b"  \n\t ", "empty file: no JSON at all"),
        (
            b"<html>not json</html>",
            "not JSON: lexical error: invalid char in json text, at the start of the file",
        ),
        (
            b'{"item": [[{"app_id": 1}]]}',
            "wrong shape: the top level is an object, expected an array of rank groups",
        ),
        (b'"text"', "wrong shape: the top level is a string"),
        (b"42", "wrong shape: the top level is a number"),
        (b"null", "wrong shape: the top level is null"),
        (
            b"[1, 2]",
            "wrong shape: the file holds no app object, yet it is not an empty array or empty groups",
        ),
        (
            b'[[{"app_id": 1}], {"app_id": 2}]',
            "wrong shape: a group is an object, expected an array of app objects (near byte 18, after 1 app",
        ),
        (b"[[]] trailing", "trailing data after the top-level array"),
        (b"[[]][]", "trailing data after the top-level array"),
        (
            b"[[], [1, ]]",
            "not valid JSON: parse error: unallowed token at this point in JSON text, before byte 11",
        ),
        (b"[[]", "truncated: the file ends after 3 bytes, after 0 app objects"),
    ],
)
def test_broken_files_are_rejected_with_the_reason(data, expected):
    assert expected in rejected(data)


def test_a_truncated_file_is_rejected_saying_where():
    data = delivery([[app(1), app(2)], [app(3), app(4)]])
    cut = data[: data.index(b'"name": "Game 4"') + 5]
    where = "after 3 app objects"
    assert rejected(cut) == f"truncated: the file ends after {len(cut)} bytes, {where}"


def test_a_file_is_rejected_only_when_it_proves_broken():
    items = parse_delivery(io.BytesIO(delivery([[app(1)]] * 50)[:-400]))
    assert isinstance(next(items), Accepted)
    with pytest.raises(FileRejected, match="truncated"):
        list(items)


def test_invalid_utf8_deep_in_a_big_file_names_the_byte_range():
    data = delivery([[app(i)] for i in range(40)])
    spot = data.index(b"Game 35")
    reason = rejected(data[:spot] + b"\xff" + data[spot + 1 :])
    assert reason.startswith("not valid JSON: lexical error: invalid bytes in UTF8 string, before byte")
    assert "(after 35 app objects)" in reason


def test_a_group_is_streamed_one_app_object_at_a_time():
    data = delivery([[app(i) for i in range(2_000)]])
    # Cut the file early in its only group: apps come out before the parser could have seen the group end.
    items = parse_delivery(io.BytesIO(data[: len(data) // 10]))
    assert [next(items).position for _ in range(100)] == list(range(100))
    with pytest.raises(FileRejected, match="truncated"):
        list(items)
