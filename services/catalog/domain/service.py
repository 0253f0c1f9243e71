"""The catalog's domain service: validation, paging and transactions around the storage functions.

Plain Python: no grpc and no SQL here. The servicer converts protos to these calls and back. This layer
owns every transaction: it decides what commits together, opens it, and hands its connection to the
storage functions, which never open one of their own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from catalog.domain import validation
from catalog.model import Game, GameFields, GameUpdate, Import, ImportSource, Page, Platform
from catalog.storage import games, imports, request_ids, rollback, search
from catalog.storage.database import Connection, Engine, connection, ping, transaction
from catalog.storage.revision import RevisionFeed, read_revision
from gamekit.errors import FieldViolation, InvalidArgument, NotFound, Unavailable
from gamekit.paging.pages import PageBudget, Rendering
from gamekit.paging.tokens import Cursor, PageTokens, page_size

R = TypeVar("R", Game, Import)  # a resource with an integer id
if TYPE_CHECKING:  # a TypeVar default (PEP 696) needs typing_extensions before Python 3.13
    from typing_extensions import TypeVar as DefaultedTypeVar

    # What a listing's page holds: domain values, unless the caller passes a rendering.
    GameItem = DefaultedTypeVar("GameItem", default=Game)
    ImportItem = DefaultedTypeVar("ImportItem", default=Import)

MAX_ID = 2**63 - 1


def _existing_id(kind: str, resource_id: int) -> int:
    """Ids outside bigint cannot exist; refusing them here keeps a driver range error from escaping."""
    if not 0 < resource_id <= MAX_ID:
        raise NotFound(f"{kind} {resource_id} does not exist")
    return resource_id


def _request_id_reused() -> InvalidArgument:
    violation = FieldViolation("request_id", "was sent before with a different request; use a new id")
    return InvalidArgument(
        [violation], message="this request id belongs to another request", reason="REQUEST_ID_REUSED"
    )


def _platform_filter(platform: Platform | None) -> str:
    return "" if platform is None else platform.value


def _id_cursor(cursor: Cursor | None) -> int | None:
    """The one id of a cursor, or InvalidArgument (a valid MAC over a wrong shape is still refused)."""
    if cursor is None:
        return None
    if len(cursor) != 1 or not isinstance(cursor[0], int):
        raise InvalidArgument.field("page_token", "not a page token from this service")
    return cursor[0]


def _games_after(platform: Platform | None) -> Callable[[Connection, int | None, int], list[Game]]:
    """Read games by id after a cursor, optionally of one platform."""

    def fetch(conn: Connection, after_id: int | None, limit: int) -> list[Game]:
        return games.list_games(conn=conn, platform=platform, after_id=after_id or 0, limit=limit)

    return fetch


class CatalogService:
    """Every catalog operation, transport-neutral."""

    def __init__(
        self,
        *,
        engine: Engine,
        revision_feed: RevisionFeed,
        page_tokens: PageTokens,
        page_budget: PageBudget,
        default_page_size: int = 50,
        max_page_size: int = 1000,
        request_id_ttl: timedelta = timedelta(days=1),
        search_limits: search.SearchLimits = search.DEFAULT_LIMITS,
    ) -> None:
        self._engine = engine
        self._feed = revision_feed
        self._tokens = page_tokens
        self._budget = page_budget
        self._default_page_size = default_page_size
        self._max_page_size = max_page_size
        self._request_id_ttl = request_id_ttl
        self._limits = search_limits

    def _page_size(self, requested: int) -> int:
        return page_size(requested, default=self._default_page_size, maximum=self._max_page_size)

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with connection(self._engine) as conn:
                ping(conn=conn)
        except Unavailable:
            return False
        return True

    def get_game(self, game_id: int) -> Game:
        """One game by id."""
        with connection(self._engine) as conn:
            return games.get_game(conn=conn, game_id=_existing_id("game", game_id))

    def list_games(
        self,
        *,
        platform: Platform | None,
        page_size: int,
        page_token: str,
        rendering: Rendering[Game, GameItem] | None = None,
    ) -> Page[GameItem]:
        """Games in id order, one page at a time; as `rendering` makes them when given (see _take)."""
        filters = {"platform": _platform_filter(platform)}
        return self._id_page("games.list", filters, page_size, page_token, _games_after(platform), rendering)

    def search_games(
        self,
        *,
        query: str,
        platform: Platform | None,
        page_size: int,
        page_token: str,
        rendering: Rendering[Game, GameItem] | None = None,
    ) -> Page[GameItem]:
        """Games whose name contains the query, best match first; an empty query lists every game."""
        validation.search_query(query)
        if not query.strip():
            # An empty query pages like ListGames, under its own token kind and filters.
            filters = {"query": "", "platform": _platform_filter(platform)}
            fetch = _games_after(platform)
            return self._id_page("games.search", filters, page_size, page_token, fetch, rendering)
        limit = self._page_size(page_size)
        with connection(self._engine) as conn:
            key = validation.search_key(search.normalise(conn=conn, query=query))
            filters = {"query": key, "platform": _platform_filter(platform)}
            after = search.page_cursor(self._tokens.decode(page_token, kind="games.search", filters=filters))
            found = search.search_games(
                conn=conn, key=key, platform=platform, after=after, limit=limit + 1, limits=self._limits
            )
        items, more = self._take([game for game, _ in found], limit, rendering)
        if not more:
            return Page(items)
        last = found[len(items) - 1][1]
        token = self._tokens.encode(kind="games.search", filters=filters, cursor=last.to_token())
        return Page(items, token)

    def _take(
        self, found: list[R], limit: int, rendering: Rendering[R, Any] | None
    ) -> tuple[list[Any], bool]:
        """The page's share of `found` under the byte budget: domain values, or as `rendering` makes them.

        A transport passes the rendering it sends, so each item is built once: measured as sent, then sent.
        """
        if rendering is None:
            return self._budget.take(found, limit)
        return self._budget.take_rendered(found, limit, rendering)

    def _id_page(
        self,
        kind: str,
        filters: dict[str, str],
        page_size: int,
        page_token: str,
        fetch: Callable[[Connection, int | None, int], list[R]],
        rendering: Rendering[R, Any] | None,
    ) -> Page[Any]:
        """One page of a listing in id order; `fetch(conn, cursor_id, limit)` reads the rows after it."""
        limit = self._page_size(page_size)
        cursor_id = _id_cursor(self._tokens.decode(page_token, kind=kind, filters=filters))
        with connection(self._engine) as conn:
            found = fetch(conn, cursor_id, limit + 1)
        items, more = self._take(found, limit, rendering)
        if not more:
            return Page(items)
        token = self._tokens.encode(kind=kind, filters=filters, cursor=[found[len(items) - 1].id])
        return Page(items, token)

    def create_game(
        self, fields: GameFields, *, request_id: str, caller: str = "", request_hash: bytes | None = None
    ) -> Game:
        """Create a game once per request id of a caller (AIP-155); a retry gets the first answer.

        `request_hash` stands for everything in the request but its id (the transport hashes its wire
        form); in-process callers may leave it to a hash of `fields`. Reusing the id with another
        request is InvalidArgument (REQUEST_ID_REUSED); after the id's time to live it is new again.
        """
        key = request_ids.RequestKey(
            caller=caller,
            request_id=validation.request_id(request_id),
            request_hash=request_hash or hashlib.sha256(repr(fields).encode()).digest(),
        )
        validation.validate_fields(fields)
        with transaction(self._engine) as conn:
            earlier = request_ids.claim(conn=conn, key=key, ttl=self._request_id_ttl)
            if earlier is not None:
                if earlier.request_hash != key.request_hash:
                    raise _request_id_reused()
                return earlier.answer
            game = games.create_game(conn=conn, fields=fields)
            request_ids.record_answer(conn=conn, key=key, game_id=game.id)
            request_ids.purge_expired(conn=conn)
            return game

    def update_game(self, update: GameUpdate) -> Game:
        """Change the fields the mask names, honouring the etag when given."""
        validation.validate_update(update.values, update.paths)
        _existing_id("game", update.game_id)
        with transaction(self._engine) as conn:
            return games.update_game(conn=conn, change=update)

    def delete_game(self, game_id: int, *, etag: str = "") -> None:
        """Delete a game, honouring the etag when given."""
        with transaction(self._engine) as conn:
            games.delete_game(conn=conn, game_id=_existing_id("game", game_id), etag=etag)

    def import_games(self, source: ImportSource, batches: Iterable[list[GameFields]]) -> Import:
        """Stream batches into one atomic import; any invalid game fails the whole import."""

        def checked() -> Iterator[list[GameFields]]:
            for number, batch in enumerate(batches):
                validation.validate_batch(batch, batch_number=number)
                yield batch

        validation.validate_source(source)
        with transaction(self._engine) as conn:
            return imports.import_games(conn=conn, source=source, batches=checked())

    def get_import(self, import_id: int) -> Import:
        """One import by id."""
        with connection(self._engine) as conn:
            return imports.get_import(conn=conn, import_id=_existing_id("import", import_id))

    def list_imports(
        self, *, page_size: int, page_token: str, rendering: Rendering[Import, ImportItem] | None = None
    ) -> Page[ImportItem]:
        """Imports newest first, one page at a time; as `rendering` makes them when given."""

        def fetch(conn: Connection, before_id: int | None, limit: int) -> list[Import]:
            return imports.list_imports(conn=conn, before_id=before_id, limit=limit)

        return self._id_page("imports.list", {}, page_size, page_token, fetch, rendering)

    def rollback_import(self, import_id: int) -> Import:
        """Restore every game the import changed to its state before it."""
        import_id = _existing_id("import", import_id)
        with transaction(self._engine) as conn:
            return rollback.rollback_import(conn=conn, import_id=import_id)

    def current_revision(self) -> int:
        """The current catalog revision."""
        with connection(self._engine) as conn:
            return read_revision(conn=conn)

    def watch_revision(self, *, is_active: Callable[[], bool], poll_seconds: float = 1.0) -> Iterator[int]:
        """The current revision, then each newer one, until `is_active()` is False or the feed closes."""
        # The feed closes as the server stops: the watcher reconnects elsewhere rather than hold the drain.
        subscription = self._feed.subscribe()
        try:
            last = self.current_revision()
            yield last
            while is_active() and not self._feed.closing:
                revision = subscription.next(poll_seconds)
                if revision is not None and revision > last:
                    last = revision
                    yield revision
        finally:
            subscription.close()
