"""Game rows: get, create, update by mask, delete, list by keyset.

Every function takes the connection of the caller's transaction, keyword-only, and returns domain
values. Writers bump the catalog revision in the same transaction.
"""

from __future__ import annotations

from psycopg.errors import UniqueViolation
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from catalog.model import Game, GameFields, GameUpdate, Platform
from catalog.storage import tables
from catalog.storage.revision import bump_revision
from gamekit.errors import Aborted, AlreadyExists, NotFound

g = tables.games


def _not_found(game_id: int) -> NotFound:
    return NotFound(f"game {game_id} does not exist")


def _check_etag(game: Game, etag: str) -> None:
    if etag and etag != game.etag:
        raise Aborted(
            f"game {game.id} changed since it was read; read it again and retry", reason="ETAG_MISMATCH"
        )


def get_game(*, conn: Connection, game_id: int, for_update: bool = False) -> Game:
    """One game by id; NotFound when missing."""
    query = select(g).where(g.c.id == game_id)
    if for_update:
        query = query.with_for_update()
    result = conn.execute(query)
    row = result.first()
    if row is None:
        raise _not_found(game_id)
    return tables.game_reader(result.keys())(row)


def list_games(*, conn: Connection, platform: Platform | None, after_id: int, limit: int) -> list[Game]:
    """Games with id > after_id in id order (keyset), optionally of one platform."""
    query = select(g).where(g.c.id > after_id).order_by(g.c.id).limit(limit)
    if platform is not None:
        query = query.where(g.c.platform == platform.value)
    result = conn.execute(query)
    return list(map(tables.game_reader(result.keys()), result.all()))


def create_game(*, conn: Connection, fields: GameFields) -> Game:
    """Create a game; AlreadyExists when its platform already has its store id."""
    try:
        result = conn.execute(
            insert(g).values(**tables.fields_to_row(fields), etag=tables.new_etag()).returning(g)
        )
        row = result.one()
    except IntegrityError as exc:
        if not isinstance(exc.orig, UniqueViolation):
            raise
        # The failed INSERT aborts the whole transaction, request id claim included.
        raise AlreadyExists(
            f"a {fields.platform.value} game with store id {fields.store_id!r} already exists"
        ) from exc
    bump_revision(conn=conn)
    return tables.game_reader(result.keys())(row)


def update_game(*, conn: Connection, change: GameUpdate) -> Game:
    """Set the masked fields; Aborted on a stale etag, NotFound when missing."""
    current = get_game(conn=conn, game_id=change.game_id, for_update=True)
    _check_etag(current, change.etag)
    values = {k: v for k, v in tables.fields_to_row(change.values).items() if k in change.paths}
    result = conn.execute(
        update(g)
        .where(g.c.id == change.game_id)
        .values(**values, etag=tables.new_etag(), update_time=func.now())
        .returning(g)
    )
    row = result.one()
    bump_revision(conn=conn)
    return tables.game_reader(result.keys())(row)


def delete_game(*, conn: Connection, game_id: int, etag: str = "") -> None:
    """Delete a game; Aborted on a stale etag, NotFound when missing."""
    current = get_game(conn=conn, game_id=game_id, for_update=True)
    _check_etag(current, etag)
    conn.execute(delete(g).where(g.c.id == game_id))
    bump_revision(conn=conn)
