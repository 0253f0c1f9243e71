"""How each resource reads in a terminal: its table columns and its one-record view."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from google.protobuf.message import Message

from gamectl.commands.tables import Column
from games.catalog.v1 import catalog_pb2 as cpb
from games.ingestion.v1 import ingestion_pb2 as ipb

M = TypeVar("M", bound=Message)
NONE = "-"


def when(message: Message, field: str) -> str:
    """A Timestamp field as `2024-05-01 12:00:00Z`, or `-` when unset."""
    if not message.HasField(field):
        return NONE
    stamp = getattr(message, field).ToDatetime(tzinfo=datetime.UTC)
    return f"{stamp:%Y-%m-%d %H:%M:%S}Z"


def enum_name(message: Message, field: str) -> str:
    """An enum field by its short name (`PLATFORM_IOS` is `ios`), `-` when unspecified."""
    descriptor = message.DESCRIPTOR.fields_by_name[field].enum_type
    if descriptor is None:
        raise TypeError(f"{field} is not an enum field")
    value = descriptor.values_by_number.get(getattr(message, field))
    if value is None:
        return str(getattr(message, field))
    if value.number == 0:
        return NONE
    prefix = descriptor.values[0].name.removesuffix("UNSPECIFIED")
    return value.name.removeprefix(prefix).lower().replace("_", "-")


def number(value: float) -> str:
    """A float with at most two decimals and no trailing zeros (4.5, 0.99, 12)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def optional(message: Message, field: str, fmt: Callable[[float], str] = number) -> str:
    """An optional scalar field, or `-` when absent."""
    return fmt(getattr(message, field)) if message.HasField(field) else NONE


def yes_no(message: Message, field: str) -> str:
    """An optional bool as yes/no, `-` when unknown."""
    return optional(message, field, lambda v: "yes" if v else "no")


def text(value: str) -> str:
    """A string field, `-` when empty."""
    return value or NONE


@dataclass(frozen=True)
class View(Generic[M]):
    """A resource's table (columns and a row per message) and its record view."""

    plural: str
    columns: tuple[Column, ...]
    row: Callable[[M], list[str]]
    record: Callable[[M], list[tuple[str, str]]]


GAMES: View[cpb.Game] = View(
    "games",
    (
        Column("NAME"),
        Column("TITLE", max_width=40),
        Column("PLATFORM"),
        Column("STORE ID", max_width=32),
        Column("PUBLISHER", max_width=28),
        Column("RATING", right=True),
        Column("RANK", right=True),
    ),
    lambda g: [
        g.name,
        g.display_name,
        enum_name(g, "platform"),
        g.store_id,
        text(g.publisher_name),
        optional(g, "rating"),
        optional(g, "best_rank", str),
    ],
    lambda g: [
        ("name", g.name),
        ("title", g.display_name),
        ("platform", enum_name(g, "platform")),
        ("store id", g.store_id),
        ("bundle id", text(g.bundle_id)),
        ("publisher", text(g.publisher_name)),
        ("publisher id", text(g.publisher_id)),
        ("version", text(g.app_version)),
        ("published", "yes" if g.is_published else "no"),
        ("rating", optional(g, "rating")),
        ("ratings", optional(g, "rating_count", str)),
        ("price", optional(g, "price")),
        ("in-app purchases", yes_no(g, "in_app_purchases")),
        ("best rank", optional(g, "best_rank", str)),
        ("categories", ", ".join(g.categories) or NONE),
        ("released", when(g, "release_time")),
        ("store updated", when(g, "store_update_time")),
        ("icon", text(g.icon_uri)),
        ("store page", text(g.store_uri)),
        ("last import", text(g.last_import)),
        ("created", when(g, "create_time")),
        ("updated", when(g, "update_time")),
        ("etag", g.etag),
    ],
)


def _source(i: cpb.Import) -> str:
    return f"s3://{i.source.bucket}/{i.source.key}" if i.source.key else NONE


IMPORTS: View[cpb.Import] = View(
    "imports",
    (
        Column("NAME"),
        Column("STATE"),
        Column("SOURCE", max_width=48),
        Column("RECEIVED", right=True),
        Column("CREATED", right=True),
        Column("UPDATED", right=True),
        Column("UNCHANGED", right=True),
        Column("PUBLISHED"),
        Column("REVISION", right=True),
    ),
    lambda i: [
        i.name,
        enum_name(i, "state"),
        _source(i),
        str(i.received_count),
        str(i.created_count),
        str(i.updated_count),
        str(i.unchanged_count),
        when(i, "publish_time"),
        str(i.revision),
    ],
    lambda i: [
        ("name", i.name),
        ("state", enum_name(i, "state")),
        ("source", _source(i)),
        ("source etag", text(i.source.etag)),
        ("source version", text(i.source.version_id)),
        ("received", str(i.received_count)),
        ("created", str(i.created_count)),
        ("updated", str(i.updated_count)),
        ("unchanged", str(i.unchanged_count)),
        ("published", when(i, "publish_time")),
        ("rolled back", when(i, "rollback_time")),
        ("revision", str(i.revision)),
    ],
)

RUNS: View[ipb.Run] = View(
    "runs",
    (
        Column("NAME"),
        Column("TRIGGER"),
        Column("STATE"),
        Column("STARTED"),
        Column("ENDED"),
        Column("FILES OK/SKIP/FAIL/REJ", right=True),
        Column("RECORDS", right=True),
        Column("REPAIRED", right=True),
        Column("QUARANTINED", right=True),
        Column("DUPLICATES", right=True),
    ),
    lambda r: [
        r.name,
        enum_name(r, "trigger"),
        enum_name(r, "state"),
        when(r, "start_time"),
        when(r, "end_time"),
        f"{r.files_imported}/{r.files_skipped}/{r.files_failed}/{r.files_rejected}",
        str(r.records_imported),
        str(r.records_repaired),
        str(r.records_quarantined),
        str(r.records_duplicate),
    ],
    lambda r: [
        ("name", r.name),
        ("trigger", enum_name(r, "trigger")),
        ("state", enum_name(r, "state")),
        ("started", when(r, "start_time")),
        ("ended", when(r, "end_time")),
        ("files imported", str(r.files_imported)),
        ("files skipped", str(r.files_skipped)),
        ("files failed", str(r.files_failed)),
        ("files rejected", str(r.files_rejected)),
        ("records imported", str(r.records_imported)),
        ("records repaired", str(r.records_repaired)),
        ("records quarantined", str(r.records_quarantined)),
        ("duplicates dropped", str(r.records_duplicate)),
    ],
)


def drift_line(drift: ipb.FieldDrift) -> str:
    """`categories: a string, converted, in 300 records`."""
    action = enum_name(drift, "action")
    return f"{drift.field}: {drift.shape}, {action}, in {drift.record_count} records"


FILES: View[ipb.File] = View(
    "files",
    (
        Column("NAME"),
        Column("KEY", max_width=40),
        Column("STATE"),
        Column("RECORDS", right=True),
        Column("REPAIRED", right=True),
        Column("QUARANTINED", right=True),
        Column("IMPORT"),
        Column("UPDATED"),
        Column("REASON", max_width=40),
        Column("DRIFT", max_width=40),
    ),
    lambda f: [
        f.name,
        f.key,
        enum_name(f, "state"),
        str(f.records_imported),
        str(f.records_repaired),
        str(f.records_quarantined),
        text(f.catalog_import),
        when(f, "update_time"),
        text(f.reject_reason or f.error),
        text("; ".join(drift_line(d) for d in f.drift)),
    ],
    lambda f: [
        ("name", f.name),
        ("object", f"s3://{f.bucket}/{f.key}"),
        ("etag", text(f.etag)),
        ("version", text(f.version_id)),
        ("size", f"{f.size_bytes} bytes"),
        ("state", enum_name(f, "state")),
        ("run", text(f.run)),
        ("import", text(f.catalog_import)),
        ("records imported", str(f.records_imported)),
        ("records repaired", str(f.records_repaired)),
        ("records quarantined", str(f.records_quarantined)),
        ("updated", when(f, "update_time")),
        ("error", text(f.error)),
        ("rejected because", text(f.reject_reason)),
        ("failed runs", str(f.failures)),
        ("accepted by", text(f.accepted_by)),
        ("accepted", when(f, "accept_time")),
        *[("drift", drift_line(d)) for d in f.drift],
    ],
)

QUARANTINE: View[ipb.QuarantinedRecord] = View(
    "quarantined records",
    (
        Column("FILE"),
        Column("KEY", max_width=32),
        Column("POSITION", right=True),
        Column("REASON", max_width=48),
        Column("RECORD", max_width=48),
    ),
    lambda q: [q.file, q.key, str(q.position), q.reason, q.raw_record],
    lambda q: [
        ("name", q.name),
        ("file", q.file),
        ("key", q.key),
        ("position", str(q.position)),
        ("reason", q.reason),
        ("quarantined", when(q, "create_time")),
        ("record", q.raw_record),
    ],
)
