"""Request ids of creates (AIP-155): claiming one, keeping the first answer, purging expired ones.

A row is keyed by (caller, request id) and holds a hash of the request and the games row the first call
answered with, not a pointer to the game, so a retry answers the same after the game changed or was
deleted. Functions take the connection of the caller's transaction: the claim, the game and the answer
commit together or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, delete, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from catalog.model import Game
from catalog.storage import tables

r = tables.request_ids
# Expired rows each new create removes: far more than the one it adds, so expired ids never pile up,
# and few enough that a create after a busy day does not pay for the whole backlog at once.
PURGE_BATCH = 100

_EARLIER = text(
    """
    SELECT r.request_hash, a.*
    FROM catalog.request_ids r, jsonb_populate_record(NULL::catalog.games, r.answer) AS a
    WHERE r.caller = :caller AND r.request_id = :request_id
    """
)
# The same row image as an import's prior (to_jsonb of the row), read back with jsonb_populate_record.
_ANSWER = text(
    """
    UPDATE catalog.request_ids
    SET answer = (SELECT to_jsonb(g) FROM catalog.games g WHERE g.id = :game_id)
    WHERE caller = :caller AND request_id = :request_id
    """
)


@dataclass(frozen=True)
class RequestKey:
    """One request as AIP-155 sees it: who sent it, the id they gave it, a hash of everything else."""

    caller: str
    request_id: uuid.UUID
    request_hash: bytes


@dataclass(frozen=True)
class Earlier:
    """A live earlier request with the same caller and id: its hash and the game it answered with."""

    request_hash: bytes
    answer: Game


def claim(*, conn: Connection, key: RequestKey, ttl: timedelta) -> Earlier | None:
    """Take the id for this request (None), or the earlier request that holds it and has not expired.

    A concurrent claim of the same id waits here until the first transaction ends, then sees its answer.
    """
    insert = pg_insert(r).values(
        caller=key.caller,
        request_id=key.request_id,
        request_hash=key.request_hash,
        expire_time=func.now() + ttl,
    )
    # An expired row is taken over in place; a live one is left alone (and locked, so never purged under us).
    claimed = conn.execute(
        insert.on_conflict_do_update(
            index_elements=[r.c.caller, r.c.request_id],
            set_={
                "request_hash": insert.excluded.request_hash,
                "answer": None,
                "create_time": func.now(),
                "expire_time": insert.excluded.expire_time,
            },
            where=r.c.expire_time <= func.now(),
        ).returning(r.c.request_id)
    ).first()
    if claimed is not None:
        return None
    result = conn.execute(_EARLIER, {"caller": key.caller, "request_id": key.request_id})
    row = result.one()
    return Earlier(request_hash=bytes(row.request_hash), answer=tables.game_reader(result.keys())(row))


def record_answer(*, conn: Connection, key: RequestKey, game_id: int) -> None:
    """Keep the game as it is now in this transaction as the answer to every retry of the request."""
    conn.execute(_ANSWER, {"caller": key.caller, "request_id": key.request_id, "game_id": game_id})


def purge_expired(*, conn: Connection) -> None:
    """Delete up to PURGE_BATCH expired ids, skipping rows another transaction holds."""
    expired = (
        select(r.c.caller, r.c.request_id)
        .where(r.c.expire_time <= func.now())
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    conn.execute(delete(r).where(tuple_(r.c.caller, r.c.request_id).in_(expired)))
