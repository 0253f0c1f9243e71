"""Name search: partial, case- and accent-insensitive, ranked, paged by keyset over the rank.

The name and the query go through the same `catalog.search_key` (lower(unaccent())), and a
`LIKE '%key%'` on that expression is answered by the trigram GIN index. Matches are ordered by
(rank class, -similarity, id): exact name, then prefix, then word prefix, then anywhere; the cursor is
that tuple, so a page never repeats or skips a row that existed throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Float, case, func, literal, select, tuple_

from catalog import tables
from catalog.model import Game, Platform

g = tables.games


@dataclass(frozen=True)
class SearchCursor:
    """Where a search page ended: the last row's rank class, negated similarity and id."""

    rank: int
    neg_similarity: float
    game_id: int


def normalise(*, conn: Connection, query: str) -> str:
    """The query as the index sees names: lower(unaccent()), trimmed."""
    key = conn.execute(select(tables.search_key(literal(query)))).scalar_one()
    return str(key or "").strip()


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_games(
    *, conn: Connection, key: str, platform: Platform | None, after: SearchCursor | None, limit: int
) -> list[tuple[Game, SearchCursor]]:
    """Games whose normalised name contains `key`, best first, after the cursor."""
    escaped = _escape_like(key)
    name_key = tables.search_key(g.c.display_name)
    # Rank (id, key) pairs only, with each key computed once (unaccent costs per call, and a flattened
    # subquery would recompute it in every CASE branch), then fetch the full rows of the page alone:
    # a broad query has thousands of matches, a page has `limit`.
    matches = select(g.c.id, name_key.label("name_key")).where(name_key.like(f"%{escaped}%"))
    if platform is not None:
        matches = matches.where(g.c.platform == platform.value)
    m = matches.cte("m").prefix_with("MATERIALIZED")
    rank = case(
        (m.c.name_key == key, 0),
        (m.c.name_key.like(f"{escaped}%"), 1),
        (m.c.name_key.like(f"% {escaped}%"), 2),
        else_=3,
    )
    neg_similarity = (-func.public.similarity(m.c.name_key, key, type_=Float)).cast(Float)
    ranked = select(m.c.id, rank.label("rank"), neg_similarity.label("neg_similarity")).subquery("r")
    order = (ranked.c.rank, ranked.c.neg_similarity, ranked.c.id)
    best = select(ranked).order_by(*order).limit(limit)
    if after is not None:
        best = best.where(
            tuple_(*order)
            > tuple_(literal(after.rank), literal(after.neg_similarity, Float), literal(after.game_id))
        )
    page = best.subquery("page")
    query = (
        select(g, page.c.rank, page.c.neg_similarity)
        .join_from(g, page, g.c.id == page.c.id)
        .order_by(page.c.rank, page.c.neg_similarity, page.c.id)
    )
    return [
        (tables.row_to_game(row), SearchCursor(row["rank"], row["neg_similarity"], row["id"]))
        for row in conn.execute(query).mappings()
    ]
