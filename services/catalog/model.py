"""Domain values of the catalog: plain dataclasses, no grpc, no SQL."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


class Platform(enum.Enum):
    """The app store a game is listed in; the value is what the database stores."""

    IOS = "ios"
    ANDROID = "android"


@dataclass(frozen=True)
class GameFields:
    """Everything about a game a caller or an import may set."""

    display_name: str
    platform: Platform
    store_id: str
    bundle_id: str = ""
    publisher_id: str = ""
    publisher_name: str = ""
    app_version: str = ""
    is_published: bool = True
    rating: float | None = None
    rating_count: int | None = None
    release_time: datetime | None = None
    store_update_time: datetime | None = None
    categories: tuple[str, ...] = ()
    icon_uri: str = ""
    store_uri: str = ""
    price: float | None = None
    in_app_purchases: bool | None = None
    best_rank: int | None = None


# Fields an UpdateGame field mask may name; platform and store_id are the game's identity.
MUTABLE_FIELDS: frozenset[str] = frozenset(GameFields.__dataclass_fields__) - {"platform", "store_id"}


@dataclass(frozen=True)
class Game:
    """A stored game: its fields plus what the catalog keeps about it."""

    id: int
    fields: GameFields
    etag: str
    create_time: datetime
    update_time: datetime
    last_import_id: int | None = None


class ImportState(enum.Enum):
    """Where an import is; the value is what the database stores."""

    PUBLISHED = "published"
    ROLLED_BACK = "rolled_back"


@dataclass(frozen=True)
class ImportSource:
    """The delivered file an import came from."""

    bucket: str = ""
    key: str = ""
    etag: str = ""
    version_id: str = ""


@dataclass(frozen=True)
class Import:
    """One published import and what it changed."""

    id: int
    source: ImportSource
    state: ImportState
    received_count: int
    created_count: int
    updated_count: int
    unchanged_count: int
    publish_time: datetime
    rollback_time: datetime | None
    revision: int


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and the opaque token for the next one ('' on the last page)."""

    items: list[T]
    next_page_token: str = ""


@dataclass(frozen=True)
class GameUpdate:
    """An update: the game, the values, the mask of fields to change and an optional etag."""

    game_id: int
    values: GameFields
    paths: frozenset[str] = field(default_factory=frozenset)
    etag: str = ""
