"""A parsed record as the catalog's Game: the one place ingestion's records meet the catalog's contract."""

from __future__ import annotations

from gamekit.timestamps import timestamp
from games.catalog.v1 import catalog_pb2 as pb
from ingestion.parsing.app_record import GameRecord

_PLATFORMS = {"ios": pb.PLATFORM_IOS, "android": pb.PLATFORM_ANDROID}


def game_from_record(record: GameRecord) -> pb.Game:
    """A parsed record as the catalog's Game."""
    game = pb.Game(
        display_name=record.display_name,
        platform=_PLATFORMS[record.platform],
        store_id=record.store_id,
        bundle_id=record.bundle_id,
        publisher_id=record.publisher_id,
        publisher_name=record.publisher_name,
        app_version=record.app_version,
        is_published=True,
        categories=list(record.categories),
        icon_uri=record.icon_uri,
        store_uri=record.store_uri,
        rating=record.rating,
        rating_count=record.rating_count,
        price=record.price,
        in_app_purchases=record.in_app_purchases,
        best_rank=record.best_rank,
    )
    if record.release_time is not None:
        game.release_time.CopyFrom(timestamp(record.release_time))
    if record.store_update_time is not None:
        game.store_update_time.CopyFrom(timestamp(record.store_update_time))
    return game
