"""Search served in index order: every name's word suffixes, and the vocabulary of name words.

Search used to rank every trigram match before it could return a page, so its cost followed the number of
matches. Now each tier is read from a B-tree in its own order (see catalog/storage/search.py):

- `name_suffixes` holds, for each game, its normalised name (word_number 1) and the name from each later
  word on (words 2..16), in the "C" collation so that a prefix is a contiguous range of the index
  whatever the database's default collation. A name prefix is a range over word 1, a word prefix a
  range over the later words; the index order is the tier's order.
- `name_words` is the vocabulary of those words, a few tens of thousands at a million games, which a
  trigram GiST index searches by distance (`<->`) in milliseconds where the same search over a million
  names takes hundreds: the similar-names tier finds its candidates through it.

Triggers on `games` keep both in the statement that changes a name, so search sees exactly what the
transaction sees. The trigram GIN index over every name is no longer read, and is dropped.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

UPGRADE = r"""
-- Words are what spaces separate. Word 1's suffix is the whole name; words 2..16 start at each later
-- non-empty word. Suffixes are cut at 256 characters, past any query (at most 200 characters).
CREATE FUNCTION catalog.name_suffixes_of(name_key text)
    RETURNS TABLE (word_number smallint, suffix text)
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT n::smallint, left(array_to_string(words[n:], ' '), 256)
    FROM string_to_array(name_key, ' ') AS words,
         generate_series(1, greatest(1, least(cardinality(words), 16))) AS n
    WHERE n = 1 OR words[n] <> ''
$$;

CREATE TABLE catalog.name_suffixes (
    game_id bigint NOT NULL,
    word_number smallint NOT NULL,
    platform text NOT NULL,
    suffix text COLLATE "C" NOT NULL,
    PRIMARY KEY (game_id, word_number)
);

CREATE TABLE catalog.name_words (
    word text COLLATE "C" PRIMARY KEY
);

-- Index the names of these games as they are now: their suffixes, then any word the vocabulary lacks, in
-- one order, so that concurrent writers adding the same words wait for each other rather than deadlock.
CREATE FUNCTION catalog.index_game_names(ids bigint[]) RETURNS void
    LANGUAGE sql
AS $$
    WITH added AS (
        INSERT INTO catalog.name_suffixes (game_id, word_number, platform, suffix)
        SELECT g.id, s.word_number, g.platform, s.suffix
        FROM catalog.games AS g, catalog.name_suffixes_of(catalog.search_key(g.display_name)) AS s
        WHERE g.id = ANY (ids)
        RETURNING suffix
    )
    INSERT INTO catalog.name_words (word)
    SELECT DISTINCT split_part(suffix, ' ', 1) FROM added WHERE suffix <> '' ORDER BY 1
    ON CONFLICT DO NOTHING
$$;

CREATE FUNCTION catalog.index_added_names() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM catalog.index_game_names(array_agg(id)) FROM added_games;
    RETURN NULL;
END
$$;

-- A statement that renames a game, or moves it to another platform, re-indexes that game; the many
-- updates that leave names alone (an import's) cost one join of the transition tables.
CREATE FUNCTION catalog.index_renamed_names() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    renamed bigint[];
BEGIN
    SELECT array_agg(n.id) INTO renamed
    FROM old_games AS o JOIN new_games AS n USING (id)
    WHERE (o.display_name, o.platform) IS DISTINCT FROM (n.display_name, n.platform);
    IF renamed IS NOT NULL THEN
        DELETE FROM catalog.name_suffixes WHERE game_id = ANY (renamed);
        PERFORM catalog.index_game_names(renamed);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION catalog.index_removed_names() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM catalog.name_suffixes AS s USING removed_games AS r WHERE s.game_id = r.id;
    RETURN NULL;
END
$$;

CREATE FUNCTION catalog.index_no_names() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    TRUNCATE catalog.name_suffixes;
    RETURN NULL;
END
$$;

SELECT catalog.index_game_names(array_agg(id)) FROM catalog.games;

-- The tiers' orders, by platform: a search of every platform merges the platforms' ranges.
CREATE INDEX name_suffixes_names ON catalog.name_suffixes (platform, suffix, game_id) WHERE word_number = 1;
CREATE INDEX name_suffixes_words ON catalog.name_suffixes (platform, suffix, game_id) WHERE word_number > 1;
CREATE INDEX name_words_trgm ON catalog.name_words USING gist (word public.gist_trgm_ops);

CREATE TRIGGER games_index_added_names AFTER INSERT ON catalog.games
    REFERENCING NEW TABLE AS added_games
    FOR EACH STATEMENT EXECUTE FUNCTION catalog.index_added_names();
CREATE TRIGGER games_index_renamed_names AFTER UPDATE ON catalog.games
    REFERENCING OLD TABLE AS old_games NEW TABLE AS new_games
    FOR EACH STATEMENT EXECUTE FUNCTION catalog.index_renamed_names();
CREATE TRIGGER games_index_removed_names AFTER DELETE ON catalog.games
    REFERENCING OLD TABLE AS removed_games
    FOR EACH STATEMENT EXECUTE FUNCTION catalog.index_removed_names();
CREATE TRIGGER games_index_no_names AFTER TRUNCATE ON catalog.games
    FOR EACH STATEMENT EXECUTE FUNCTION catalog.index_no_names();

DROP INDEX catalog.games_search_key_trgm;
"""

DOWNGRADE = r"""
CREATE INDEX games_search_key_trgm ON catalog.games
    USING gin (catalog.search_key(display_name) public.gin_trgm_ops);
DROP TRIGGER games_index_no_names ON catalog.games;
DROP TRIGGER games_index_removed_names ON catalog.games;
DROP TRIGGER games_index_renamed_names ON catalog.games;
DROP TRIGGER games_index_added_names ON catalog.games;
DROP FUNCTION catalog.index_no_names();
DROP FUNCTION catalog.index_removed_names();
DROP FUNCTION catalog.index_renamed_names();
DROP FUNCTION catalog.index_added_names();
DROP FUNCTION catalog.index_game_names(bigint[]);
DROP TABLE catalog.name_words;
DROP TABLE catalog.name_suffixes;
DROP FUNCTION catalog.name_suffixes_of(text);
"""


def upgrade() -> None:
    """Add the name suffixes and words, filled from today's games and kept by triggers."""
    op.execute(UPGRADE)


def downgrade() -> None:
    """Back to 0002: the trigram index over every name returns; 0002's search ranks every match."""
    op.execute(DOWNGRADE)
