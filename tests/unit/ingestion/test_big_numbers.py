"""Integers beyond 64 bits: the C parser refuses them, the exact parser reads them, the reader copes."""

from __future__ import annotations

import io

import pytest

from ingestion.parsing.records import Accepted, FileRejected, IntegerTooLarge, parse_delivery
from tests.factories.deliveries import app, delivery

BIG = 123456789012345678901  # 21 digits: past 2**64


def records(data: bytes, **options: bool) -> list[object]:
    return list(parse_delivery(io.BytesIO(data), **options))


def test_the_fast_parser_says_so_and_the_exact_one_reads_ids_and_drops_what_is_out_of_range() -> None:
    android = app(1, "android") | {"app_id": BIG, "publisher_id": -BIG}
    ios = app(2) | {"rating_count": BIG}
    data = delivery([[android], [ios]])

    with pytest.raises(IntegerTooLarge, match="integer overflow"):
        records(data)
    first, second = records(data, exact_numbers=True)

    assert isinstance(first, Accepted)
    assert first.record.store_id == str(BIG), "a 21-digit id is an id"
    assert first.record.publisher_id == "", "a negative publisher id is dropped"
    assert isinstance(second, Accepted)
    assert second.record.rating_count is None
    assert ("rating_count", "a number out of range", "dropped") in {
        (d.field, d.shape, d.action) for d in second.drift
    }


@pytest.mark.parametrize("bad", [b"a\x01b", b"a\\xb"], ids=["control character", "invalid escape"])
def test_the_exact_parser_rejects_a_broken_string_as_the_fast_one_does(bad: bytes) -> None:
    # ijson's pure-Python backend reports these with json's own JSONDecodeError, not ijson.JSONError
    # (found by tests/fuzz/fuzz_delivery.py): the importer's second pass must still end in FileRejected.
    data = b'[[{"app_id": %d, "os": "ios", "name": "%s"}]]' % (BIG, bad)
    with pytest.raises(IntegerTooLarge):
        records(data)
    with pytest.raises(FileRejected, match=r"not valid JSON: .*before byte \d+ \(after 0 app objects\)"):
        records(data, exact_numbers=True)
