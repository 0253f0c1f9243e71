"""S3 event notification bodies (bare, or wrapped by SNS) to the objects they say were created.

Only `ObjectCreated:*` records name an object; other S3 events are not errors, just nothing to do. A
body that is not an S3 event notification at all raises :class:`MalformedMessage` with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus


class MalformedMessage(ValueError):
    """A message that is not an S3 event notification; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ObjectCreated:
    """One object an S3 event says was created; `key` already URL-decoded."""

    bucket: str
    key: str


@dataclass(frozen=True)
class S3Event:
    """What one message carries: S3's test event, or the objects it says were created."""

    test_event: bool
    objects: tuple[ObjectCreated, ...] = ()


def parse_message(body: str) -> S3Event:
    """Parse an SQS message body (an S3 event notification, bare or SNS-wrapped); raise MalformedMessage."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise MalformedMessage(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedMessage(f"not a JSON object but {type(document).__name__}")
    if "Type" in document:
        document = _unwrap_sns(document)
    if document.get("Event") == "s3:TestEvent":
        return S3Event(test_event=True)
    records = document.get("Records")
    if not isinstance(records, list) or not records:
        raise MalformedMessage("no Records list: not an S3 event notification")
    objects = tuple(
        created for position, record in enumerate(records) if (created := _parse_record(position, record))
    )
    return S3Event(test_event=False, objects=objects)


def _unwrap_sns(envelope: dict[str, Any]) -> dict[str, Any]:
    # Without raw message delivery, SNS wraps the S3 event as a JSON string in "Message".
    if envelope.get("Type") != "Notification":
        raise MalformedMessage(f"SNS message of type {envelope.get('Type')!r}, not a Notification")
    inner = envelope.get("Message")
    if not isinstance(inner, str):
        raise MalformedMessage("SNS notification without a Message string")
    try:
        document = json.loads(inner)
    except ValueError as exc:
        raise MalformedMessage(f"SNS Message is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedMessage("SNS Message is not a JSON object")
    return document


def _parse_record(position: int, record: object) -> ObjectCreated | None:
    """The created object a record names, or None for another kind of S3 event."""
    if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
        raise MalformedMessage(f"record {position} is not from aws:s3")
    event_name = record.get("eventName")
    if not isinstance(event_name, str):
        raise MalformedMessage(f"record {position} has no eventName")
    if not event_name.startswith("ObjectCreated:"):
        return None
    name = _dig(record, "s3", "bucket", "name")
    key = _dig(record, "s3", "object", "key")
    if not isinstance(name, str) or not name or not isinstance(key, str) or not key:
        raise MalformedMessage(f"record {position} lacks s3.bucket.name or s3.object.key")
    # S3 form-encodes keys in events: "2026-11-23/ios+top100.json" names "2026-11-23/ios top100.json".
    return ObjectCreated(bucket=name, key=unquote_plus(key))


def _dig(document: dict[str, Any], *path: str) -> object:
    value: object = document
    for name in path:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value
