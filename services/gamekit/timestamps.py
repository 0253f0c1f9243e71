"""Datetimes as protobuf Timestamps, for every service's converters."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(value: datetime) -> Timestamp:
    """A datetime as a protobuf Timestamp."""
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp
