"""The similar-names tier of search: words near the query's in the vocabulary, then the games holding them.

Two statements. The near words come from the vocabulary of name words (`name_words`, a few tens of
thousands at a million games), where a trigram GiST index answers nearest-first (`<->`) and substrings;
over the million names themselves the same search costs a hundred times more. Only words holding the
query's word, or as close to it as a name must be, are kept, so the candidates are games that can pass.
The candidates, at most `candidates` games, are taken nearest word first and scored: a name containing the
query scores 1 more than one that does not, then pg_trgm's word similarity decides.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from catalog.model import Game
from catalog.storage import tables

NEAR_WORDS = text(
    r"""
SELECT word
FROM (
    (SELECT word FROM catalog.name_words WHERE word LIKE :containing
     ORDER BY word OPERATOR(public.<->) :token LIMIT :limit)
    UNION
    (SELECT word FROM catalog.name_words ORDER BY word OPERATOR(public.<->) :token LIMIT :limit)
) AS words
WHERE strpos(word, :token) > 0 OR public.word_similarity(:token, word) >= :threshold
ORDER BY word OPERATOR(public.<->) :token, word
"""
)

# Candidates in near-word order (the ordered subquery lets LIMIT stop the nested loop early); a game held
# by its first word brings its name along, the others look it up. Games of an earlier tier are left out.
SIMILAR_GAMES = text(
    r"""
WITH candidates AS MATERIALIZED (
    SELECT held.game_id, max(held.name) AS name
    FROM (
        SELECT holder.game_id, holder.name
        FROM (SELECT word, rank FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS w (word, rank)
              ORDER BY rank) AS near
        CROSS JOIN LATERAL (
            (SELECT game_id, suffix AS name FROM catalog.name_suffixes
             WHERE platform = ANY(:platforms) AND word_number = 1
               AND suffix >= near.word AND suffix < near.word || :prefix_end LIMIT :candidates)
            UNION ALL
            (SELECT game_id, NULL FROM catalog.name_suffixes
             WHERE platform = ANY(:platforms) AND word_number > 1
               AND suffix >= near.word AND suffix < near.word || :prefix_end LIMIT :candidates)
        ) AS holder
        ORDER BY near.rank
        LIMIT :candidates
    ) AS held
    GROUP BY held.game_id
),
named AS (
    SELECT c.game_id, coalesce(c.name, (
        SELECT suffix FROM catalog.name_suffixes WHERE game_id = c.game_id AND word_number = 1
    )) AS name
    FROM candidates AS c
),
scored AS MATERIALIZED (
    SELECT game_id, ((strpos(name, :key) > 0)::int + public.word_similarity(:key, name))::float8 AS score
    FROM named
),
page AS (
    SELECT game_id, score FROM scored
    WHERE score >= :threshold AND (-score, game_id) > (:after_score, :after_id)
      AND NOT EXISTS (
        SELECT FROM catalog.name_suffixes AS earlier
        WHERE earlier.game_id = scored.game_id AND earlier.suffix >= :key AND earlier.suffix < :key_end
      )
    ORDER BY score DESC, game_id
    LIMIT :limit
)
SELECT games.*, page.score
FROM page JOIN catalog.games AS games ON games.id = page.game_id
ORDER BY page.score DESC, page.game_id
"""
)


def near_words(conn: Connection, *, token: str, limit: int, threshold: float) -> tuple[str, ...]:
    """Up to 2 x `limit` vocabulary words near `token` (by distance, and holding it), nearest first."""
    params = {"token": token, "containing": f"%{escape_like(token)}%", "limit": limit, "threshold": threshold}
    return tuple(conn.execute(NEAR_WORDS, params).scalars())


def similar_games(
    conn: Connection,
    *,
    key: str,
    words: tuple[str, ...],
    platforms: list[str],
    after: tuple[float, int] | None,
    limit: int,
    candidates: int,
    threshold: float,
) -> list[tuple[Game, float]]:
    """Up to `limit` scored games holding `words`, best first, after (score, id)."""
    params = {
        "words": list(words),
        "platforms": platforms,
        "prefix_end": tables.PREFIX_END,
        "candidates": candidates,
        "key": key,
        "key_end": key + tables.PREFIX_END,
        "threshold": threshold,
        "after_score": -after[0] if after is not None else float("-inf"),
        "after_id": after[1] if after is not None else 0,
        "limit": limit,
    }
    result = conn.execute(SIMILAR_GAMES, params)
    game_of = tables.game_reader(result.keys())
    return [(game_of(row), row.score) for row in result.all()]


def escape_like(value: str) -> str:
    """`value` matched literally inside a LIKE pattern."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
