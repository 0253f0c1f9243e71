"""Parsing deliveries in the unit tests: a whole file, or one app object in a file of its own."""

from __future__ import annotations

import io

from ingestion.parsing.records import Accepted, Quarantined, parse_delivery
from tests.factories.deliveries import delivery


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
