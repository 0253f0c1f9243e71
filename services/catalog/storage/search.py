"""Name search in tiers, each read from an index in its own order, paged by keyset across the tiers.

A page costs the same whether the query matches ten games or a hundred thousand: no tier ranks its
matches, each walks an index from where the last page stopped. Names and the query are compared as
`catalog.search_key` makes them (lower(unaccent())); words are what spaces separate. Best first:

1. NAME: names that start with the query, by normalised name then id. The exact name comes first, as
   the shortest such name. The order is code point order (the "C" collation): alphabetical for Latin
   letters once accents and case are gone, and the one order in which a prefix is an index range
   whatever the database's collation.
2. WORD: names with a later word (up to the 16th) that starts with the query, by the name from that
   word on, then id; a game whose name already matched, or matches at an earlier word, appears once.
3. SIMILAR: misspellings and fragments inside words. The query's longest word is looked up in the
   vocabulary of name words, by trigram distance and as a substring; the games holding the nearest of
   those words, at most `similar_candidates` of them, are kept when their name contains the query or
   is close to it (SIMILARITY_THRESHOLD), best first (containing, then closer), then id. Only this tier
   is bounded: the games past its candidates are not found.

The tables and the triggers that keep them are in migration 0003.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    Text,
    bindparam,
    exists,
    literal,
    select,
    tuple_,
    union_all,
)

from catalog.model import Game, Platform
from catalog.storage import similar, tables
from gamekit.errors import InvalidArgument
from gamekit.paging.tokens import Cursor

g = tables.games
s = tables.name_suffixes

# How close (pg_trgm's word_similarity) a name must be to be similar: one wrong letter in a five-letter
# word passes ("qest" is 0.4 of "quest 12"), a shared first syllable does not ("pokemon go" is 0.36 of
# "poker night"). pg_trgm's own defaults, 0.3 for similarity and 0.6 for word similarity, let through
# the second or stop the first.
SIMILARITY_THRESHOLD = 0.4


class Tier(enum.IntEnum):
    """The tiers, best first; the value is the one page tokens carry."""

    NAME = 1
    WORD = 2
    SIMILAR = 3


@dataclass(frozen=True)
class SearchCursor:
    """Where a page ended: its tier, the tier's sort key (a suffix, or a similarity score) and the id;
    in the SIMILAR tier, also the near words its candidates came from."""

    tier: Tier
    sort_key: str | float
    game_id: int
    near_words: tuple[str, ...] = ()

    def to_token(self) -> Cursor:
        """What a page token carries."""
        token: Cursor = [int(self.tier), self.sort_key, self.game_id]
        return [*token, list(self.near_words)] if self.tier is Tier.SIMILAR else token

    @classmethod
    def from_token(cls, token: Cursor) -> SearchCursor | None:
        """The cursor a page token carries, or None when its shape is not one `to_token` makes."""
        if len(token) not in (3, 4) or not (_is_int(token[0]) and _is_int(token[2])):
            return None
        if token[0] not in (1, 2, 3):
            return None
        tier, sort_key, game_id, *rest = token
        if tier == Tier.SIMILAR:
            words = rest[0] if rest else None
            if not (_is_int(sort_key) or isinstance(sort_key, float)):
                return None
            if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
                return None
            return cls(Tier.SIMILAR, float(sort_key), game_id, tuple(words))
        if not isinstance(sort_key, str) or rest:
            return None
        return cls(Tier(tier), sort_key, game_id)


def page_cursor(token: Cursor | None) -> SearchCursor | None:
    """Where a search page ended, from a verified page token; InvalidArgument when it is not ours.

    The MAC proves the service made the token; this proves a search page made it (a valid MAC over
    another shape is still refused).
    """
    if token is None:
        return None
    cursor = SearchCursor.from_token(token)
    if cursor is None:
        raise InvalidArgument.field("page_token", "not a page token from this service")
    return cursor


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class SearchLimits:
    """How far the similar-names tier looks: vocabulary words per lookup, and games in all."""

    similar_candidates: int = 1000
    near_words: int = 20


DEFAULT_LIMITS = SearchLimits()


def normalise(*, conn: Connection, query: str) -> str:
    """The query as the index sees names: lower(unaccent()), trimmed."""
    key = conn.execute(select(tables.search_key(literal(query)))).scalar_one()
    return str(key or "").strip()


def search_games(
    *,
    conn: Connection,
    key: str,
    platform: Platform | None,
    after: SearchCursor | None,
    limit: int,
    limits: SearchLimits = DEFAULT_LIMITS,
) -> list[tuple[Game, SearchCursor]]:
    """Up to `limit` games matching `key`, best first, after the cursor, tier after tier."""
    platforms = [platform.value] if platform else [p.value for p in Platform]
    found: list[tuple[Game, SearchCursor]] = []
    for tier in Tier:
        if after is not None and tier < after.tier:
            continue
        cursor = after if after is not None and after.tier == tier else None
        wanted = limit - len(found)
        if tier is Tier.SIMILAR:
            found += _similar(conn, key, platforms, cursor, wanted, limits)
        else:
            found += _prefixed(conn, key, platforms, tier, cursor, wanted)
        if len(found) >= limit:
            break
    return found


def _prefixed(
    conn: Connection, key: str, platforms: list[str], tier: Tier, after: SearchCursor | None, limit: int
) -> list[tuple[Game, SearchCursor]]:
    """The NAME or WORD tier: one index range per platform, merged in (suffix, id) order."""
    params = {"key": key, "key_end": key + tables.PREFIX_END, "limit": limit}
    if after is not None:
        params |= {"after_suffix": after.sort_key, "after_id": after.game_id}
    result = conn.execute(_prefixed_query(tier, tuple(platforms), after is not None), params)
    game_of = tables.game_reader(result.keys())
    return [(game_of(row), SearchCursor(tier, row.suffix, row.id)) for row in result.all()]


@functools.cache
def _prefixed_query(tier: Tier, platforms: tuple[str, ...], after: bool) -> Select[Any]:
    """The statement of a tier, built once per shape: building and keying it per call cost ~1 ms."""
    branches = [_prefixed_in(platform, tier, after).limit(bindparam("limit")) for platform in platforms]
    page = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery("page")
    return (
        select(g, page.c.suffix)
        .join_from(g, page, g.c.id == page.c.game_id)
        .order_by(page.c.suffix, page.c.game_id)
        .limit(bindparam("limit"))
    )


def _prefixed_in(platform: str, tier: Tier, after: bool) -> Select[tuple[int, str]]:
    """One platform's matches of a tier, in the order of its partial index."""
    key, key_end = bindparam("key", type_=Text), bindparam("key_end", type_=Text)
    words = s.c.word_number == 1 if tier is Tier.NAME else s.c.word_number > 1
    query = (
        select(s.c.game_id, s.c.suffix)
        .where(s.c.platform == platform, words, s.c.suffix >= key, s.c.suffix < key_end)
        .order_by(s.c.suffix, s.c.game_id)
    )
    if after:
        cursor = tuple_(bindparam("after_suffix", type_=Text), bindparam("after_id", type_=BigInteger))
        query = query.where(tuple_(s.c.suffix, s.c.game_id) > cursor)
    if tier is Tier.WORD:
        earlier = s.alias("earlier")
        query = query.where(
            ~exists().where(
                earlier.c.game_id == s.c.game_id,
                earlier.c.word_number < s.c.word_number,
                earlier.c.suffix >= key,
                earlier.c.suffix < key_end,
            )
        )
    return query


def _similar(
    conn: Connection,
    key: str,
    platforms: list[str],
    after: SearchCursor | None,
    limit: int,
    limits: SearchLimits,
) -> list[tuple[Game, SearchCursor]]:
    """The SIMILAR tier; its near words ride in the cursor, so later pages skip the vocabulary search."""
    words = after.near_words if after is not None and after.near_words else ()
    if not words:
        token = max(key.split(" "), key=len)
        words = similar.near_words(conn, token=token, limit=limits.near_words, threshold=SIMILARITY_THRESHOLD)
    if not words:
        return []
    found = similar.similar_games(
        conn,
        key=key,
        words=words,
        platforms=platforms,
        after=(float(after.sort_key), after.game_id) if after is not None else None,
        limit=limit,
        candidates=limits.similar_candidates,
        threshold=SIMILARITY_THRESHOLD,
    )
    return [(game, SearchCursor(Tier.SIMILAR, score, game.id, words)) for game, score in found]
