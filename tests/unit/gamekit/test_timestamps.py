"""gamekit's fast `timestamp` gives exactly what protobuf's own `FromDatetime` gives, for any instant."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from gamekit.timestamps import timestamp

OFFSETS = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60))
INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.none() | OFFSETS
)


@given(INSTANTS)
def test_the_same_seconds_and_nanos_as_from_datetime(value: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value)
    assert timestamp(value) == expected
