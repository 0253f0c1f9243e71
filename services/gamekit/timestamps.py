"""Datetimes as protobuf Timestamps, for every service's converters."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = _EPOCH.replace(tzinfo=None)  # a naive datetime is UTC, as Timestamp.FromDatetime takes it


def timestamp(value: datetime) -> Timestamp:
    """A datetime as a protobuf Timestamp: what `Timestamp.FromDatetime` gives, at half its cost.

    Exact integer arithmetic on the time since the epoch; a listed game has four of these.
    """
    since = value - (_NAIVE_EPOCH if value.tzinfo is None else _EPOCH)
    return Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000)
