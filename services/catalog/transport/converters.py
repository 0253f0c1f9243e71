"""Protos in, domain values out, and back: the only place that knows both shapes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Literal

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from catalog.model import Game, GameFields, GameUpdate, Import, ImportSource, ImportState, Platform
from gamekit.errors import FieldViolation, InvalidArgument
from gamekit.paging.pages import Rendering
from gamekit.resource_names import parse_resource_id
from gamekit.timestamps import timestamp
from games.catalog.v1 import catalog_pb2 as pb

_PLATFORM_FROM_PROTO = {pb.PLATFORM_IOS: Platform.IOS, pb.PLATFORM_ANDROID: Platform.ANDROID}
_PLATFORM_TO_PROTO = {domain: proto for proto, domain in _PLATFORM_FROM_PROTO.items()}
_GAME_FIELD_NAMES = frozenset(GameFields.__dataclass_fields__)
_IMPORT_STATE_TO_PROTO = {
    ImportState.PUBLISHED: pb.IMPORT_STATE_PUBLISHED,
    ImportState.ROLLED_BACK: pb.IMPORT_STATE_ROLLED_BACK,
}


def platform_filter(value: int, *, field: str = "platform") -> Platform | None:
    """A platform filter: unset means every platform; an unknown number is refused."""
    if value == pb.PLATFORM_UNSPECIFIED:
        return None
    return _platform(value, field=field)


def _platform(value: int, *, field: str) -> Platform:
    try:
        return _PLATFORM_FROM_PROTO[value]  # type: ignore[index]
    except KeyError:
        raise InvalidArgument.field(field, "must be PLATFORM_IOS or PLATFORM_ANDROID") from None


def game_fields(game: pb.Game, *, field_prefix: str = "game.") -> GameFields:
    """The settable fields of a proto Game; output-only fields are ignored."""
    return GameFields(
        display_name=game.display_name,
        platform=_platform(game.platform, field=f"{field_prefix}platform"),
        store_id=game.store_id,
        bundle_id=game.bundle_id,
        publisher_id=game.publisher_id,
        publisher_name=game.publisher_name,
        app_version=game.app_version,
        is_published=game.is_published,
        rating=game.rating if game.HasField("rating") else None,
        rating_count=game.rating_count if game.HasField("rating_count") else None,
        release_time=_datetime(game, "release_time", field_prefix),
        store_update_time=_datetime(game, "store_update_time", field_prefix),
        categories=tuple(game.categories),
        icon_uri=game.icon_uri,
        store_uri=game.store_uri,
        price=game.price if game.HasField("price") else None,
        in_app_purchases=game.in_app_purchases if game.HasField("in_app_purchases") else None,
        best_rank=game.best_rank if game.HasField("best_rank") else None,
    )


def game_update(request: pb.UpdateGameRequest) -> GameUpdate:
    """An UpdateGame request as a domain update: the game's id, its values, the mask and the etag."""
    game_id = parse_resource_id(request.game.name, collection="games", field="game.name")
    # Platform is immutable, so an unset platform in the body is fine unless the mask names it.
    body = pb.Game()
    body.CopyFrom(request.game)
    if body.platform == pb.PLATFORM_UNSPECIFIED:
        body.platform = pb.PLATFORM_IOS
    return GameUpdate(
        game_id=game_id,
        values=game_fields(body),
        paths=frozenset(request.update_mask.paths),
        etag=request.game.etag,
    )


def game_to_proto(game: Game) -> pb.Game:
    """A stored game as the contract shows it."""
    fields = game.fields
    return pb.Game(
        name=f"games/{game.id}",
        display_name=fields.display_name,
        platform=_PLATFORM_TO_PROTO[fields.platform],
        store_id=fields.store_id,
        bundle_id=fields.bundle_id,
        publisher_id=fields.publisher_id,
        publisher_name=fields.publisher_name,
        app_version=fields.app_version,
        is_published=fields.is_published,
        etag=game.etag,
        create_time=timestamp(game.create_time),
        update_time=timestamp(game.update_time),
        categories=fields.categories,
        icon_uri=fields.icon_uri,
        store_uri=fields.store_uri,
        rating=fields.rating,
        rating_count=fields.rating_count,
        release_time=None if fields.release_time is None else timestamp(fields.release_time),
        store_update_time=None if fields.store_update_time is None else timestamp(fields.store_update_time),
        price=fields.price,
        in_app_purchases=fields.in_app_purchases,
        best_rank=fields.best_rank,
        last_import=f"imports/{game.last_import_id}" if game.last_import_id else "",
    )


def import_source(source: pb.ImportSource) -> ImportSource:
    """The delivered file an import names."""
    return ImportSource(bucket=source.bucket, key=source.key, etag=source.etag, version_id=source.version_id)


def import_to_proto(record: Import) -> pb.Import:
    """An import as the contract shows it."""
    message = pb.Import(
        name=f"imports/{record.id}",
        source=pb.ImportSource(
            bucket=record.source.bucket,
            key=record.source.key,
            etag=record.source.etag,
            version_id=record.source.version_id,
        ),
        state=_IMPORT_STATE_TO_PROTO[record.state],
        received_count=record.received_count,
        created_count=record.created_count,
        updated_count=record.updated_count,
        unchanged_count=record.unchanged_count,
        publish_time=timestamp(record.publish_time),
        revision=record.revision,
    )
    if record.rollback_time is not None:
        message.rollback_time.CopyFrom(timestamp(record.rollback_time))
    return message


def _byte_size(message: Message) -> int:
    return message.ByteSize()


# How ListGames, SearchGames and ListImports send their items: each message built once per page.
GAME_MESSAGES: Rendering[Game, pb.Game] = Rendering(game_to_proto, _byte_size)
IMPORT_MESSAGES: Rendering[Import, pb.Import] = Rendering(import_to_proto, _byte_size)


def wire_size(item: Game | Import) -> int:
    """The bytes a listed game or import takes in a response: what a page's byte budget counts."""
    message = game_to_proto(item) if isinstance(item, Game) else import_to_proto(item)
    return message.ByteSize()


def import_batches(
    requests: Iterator[pb.ImportGamesRequest],
) -> tuple[ImportSource, Iterable[list[GameFields]]]:
    """Split an ImportGames stream into its header and a lazy iterator of converted batches."""
    # The iterator raises unless the stream ends with a commit whose count matches the games sent, so a
    # client that died mid-stream (which gRPC may show as a normal end) never publishes half a file.
    first = next(requests, None)
    if first is None or first.WhichOneof("payload") != "header":
        raise InvalidArgument.field("header", "the first message of an import must carry the header")
    source = import_source(first.header.source)

    def batches() -> Iterator[list[GameFields]]:
        sent = 0
        for index, request in enumerate(requests, start=1):
            kind = request.WhichOneof("payload")
            if kind == "commit":
                if request.commit.game_count != sent:
                    raise InvalidArgument.field(
                        "commit.game_count", f"the batches carried {sent} games, the commit says otherwise"
                    )
                if next(requests, None) is not None:
                    raise InvalidArgument.field("commit", "the commit must be the last message")
                return
            if kind != "batch":
                raise InvalidArgument.field(
                    f"requests[{index}].batch", "every message after the header is a batch"
                )
            sent += len(request.batch.games)
            yield [
                game_fields(game, field_prefix=f"batch.games[{position}].")
                for position, game in enumerate(request.batch.games)
            ]
        raise InvalidArgument.field(
            "commit", "the import stream ended without its commit; nothing was published"
        )

    return source, batches()


def under_game(error: InvalidArgument) -> InvalidArgument:
    """Domain violations name GameFields attributes; callers see those under `game.`."""
    violations = [
        FieldViolation(f"game.{v.field}" if v.field in _GAME_FIELD_NAMES else v.field, v.description)
        for v in error.violations
    ]
    # A message naming the fields is rebuilt with their new names; the reason always stays.
    message = error.message if violations == error.violations else None
    return InvalidArgument(violations, message=message, reason=error.reason)


def request_hash(request: pb.CreateGameRequest) -> bytes:
    """SHA-256 of a request's known fields but `request_id`, deterministically serialized (AIP-155)."""
    canonical = pb.CreateGameRequest()
    canonical.CopyFrom(request)
    canonical.ClearField("request_id")
    canonical.DiscardUnknownFields()
    return hashlib.sha256(canonical.SerializeToString(deterministic=True)).digest()


def _datetime(
    message: pb.Game, field: Literal["release_time", "store_update_time"], field_prefix: str
) -> datetime | None:
    """The timestamp as a datetime; one outside years 1-9999 or with nanos outside [0, 1e9) is refused."""
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    try:
        return stamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument.field(
            field_prefix + field, "must be a valid timestamp between years 1 and 9999"
        ) from None
