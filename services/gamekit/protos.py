"""Proto values every service's converters share: `collection/{id}` resource names and timestamps."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from gamekit.errors import InvalidArgument


def parse_resource_id(name: str, *, collection: str, field: str) -> int:
    """`games/42` → 42; anything else is INVALID_ARGUMENT on `field`."""
    prefix = f"{collection}/"
    suffix = name[len(prefix) :] if name.startswith(prefix) else ""
    if not suffix.isascii() or not suffix.isdigit() or len(suffix) > 18 or int(suffix) == 0:
        raise InvalidArgument.field(field, f"must be {collection}/{{id}} with a positive integer id")
    return int(suffix)


def timestamp(value: datetime) -> Timestamp:
    """A datetime as a protobuf Timestamp."""
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp
