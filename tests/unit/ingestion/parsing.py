"""Parsing deliveries in the unit tests: a whole file, or one app object in a file of its own.

Also the descriptive fields, which drift may change but never quarantine, and what each one fills.
"""

from __future__ import annotations

import io

from ingestion.parsing.records import Accepted, Quarantined, parse_delivery
from tests.factories.deliveries import delivery

# The delivered field -> the GameRecord attribute it fills.
DESCRIPTIVE = {
    "bundle_id": "bundle_id",
    "publisher_id": "publisher_id",
    "publisher_name": "publisher_name",
    "version": "app_version",
    "rating": "rating",
    "rating_count": "rating_count",
    "release_date": "release_time",
    "updated_date": "store_update_time",
    "categories": "categories",
    "icon_url": "icon_uri",
    "url": "store_uri",
    "price": "price",
    "in_app_purchases": "in_app_purchases",
    "rank": "best_rank",
}


def parse(data: bytes) -> list[Accepted | Quarantined]:
    """Every item of the delivery `data`."""
    return list(parse_delivery(io.BytesIO(data)))


def one(element: object) -> Accepted | Quarantined:
    """The verdict on `element`, delivered alone."""
    (item,) = parse(delivery([[element]]))
    return item


def accepted(element: object) -> Accepted:
    """`element`, delivered alone, which must be accepted."""
    item = one(element)
    assert isinstance(item, Accepted), item
    return item
