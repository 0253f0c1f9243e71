"""Streamed imports: COPY every batch into a staging table, then publish in the same transaction.

Nothing is visible until the one transaction commits, so readers see the catalog before or after an
import, never half of it; a stream that fails midway leaves no trace. Each changed game's full prior
row is kept in `import_changes`, which is what makes `rollback_import` possible.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, insert, select, text

from catalog.model import GameFields, Import, ImportSource, ImportState
from catalog.storage import tables
from catalog.storage.revision import bump_revision
from gamekit.database.engines import advisory_lock_key, bound_to_deadline, patient_lock_wait
from gamekit.errors import NotFound

i = tables.imports
COLUMNS = tables.FIELD_COLUMNS
VALUES = tables.VALUE_COLUMNS
_fields_of = operator.attrgetter(*COLUMNS)
_PLATFORM = COLUMNS.index("platform")
_CATEGORIES = COLUMNS.index("categories")


def _differs(left: str, right: str) -> str:
    """SQL: some value column of `left` differs from `right` (NULL-safe)."""
    lhs = ", ".join(f"{left}.{c}" for c in VALUES)
    rhs = ", ".join(f"{right}.{c}" for c in VALUES)
    return f"({lhs}) IS DISTINCT FROM ({rhs})"


_STAGING = f"""
CREATE TEMP TABLE import_staging ON COMMIT DROP AS
SELECT 0::bigint AS seq, {", ".join(COLUMNS)} FROM catalog.games WITH NO DATA
"""
_COPY = f"COPY import_staging (seq, {', '.join(COLUMNS)}) FROM STDIN"
# One row per game: the best (lowest) rank wins, then the first seen.
_DEDUPE = """
CREATE TEMP TABLE import_unique ON COMMIT DROP AS
SELECT DISTINCT ON (platform, store_id) * FROM import_staging
ORDER BY platform, store_id, best_rank ASC NULLS LAST, seq
"""
_PRIORS = f"""
INSERT INTO catalog.import_changes (import_id, game_id, prior)
SELECT :import_id, g.id, to_jsonb(g) FROM catalog.games g JOIN import_unique u USING (platform, store_id)
WHERE {_differs("g", "u")}
"""
_UPSERT = f"""
WITH written AS (
    INSERT INTO catalog.games ({", ".join(COLUMNS)}, etag, last_import_id)
    SELECT {", ".join(COLUMNS)}, replace(gen_random_uuid()::text, '-', ''), :import_id
    FROM import_unique ORDER BY seq
    ON CONFLICT (platform, store_id) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in VALUES)},
        etag = EXCLUDED.etag, update_time = now(), last_import_id = EXCLUDED.last_import_id
    WHERE {_differs("games", "EXCLUDED")}
    RETURNING id, etag
)
INSERT INTO catalog.import_changes (import_id, game_id, prior, after_etag)
SELECT :import_id, id, NULL, etag FROM written
ON CONFLICT (import_id, game_id) DO UPDATE SET after_etag = EXCLUDED.after_etag
"""
_COUNTS = """
SELECT (SELECT count(*) FROM import_unique) AS distinct_count,
       count(*) FILTER (WHERE prior IS NULL) AS created,
       count(*) FILTER (WHERE prior IS NOT NULL) AS updated
FROM catalog.import_changes WHERE import_id = :import_id
"""


def _source_lock_key(source: ImportSource) -> int:
    return advisory_lock_key(source.bucket, source.key, source.etag, source.version_id)


def _copy_row(seq: int, fields: GameFields) -> tuple[Any, ...]:
    row = list(_fields_of(fields))
    row[_PLATFORM] = fields.platform.value
    row[_CATEGORIES] = list(fields.categories)
    return (seq, *row)


def _find_by_source(conn: Connection, source: ImportSource) -> Import | None:
    row = (
        conn.execute(
            select(i).where(
                i.c.bucket == source.bucket,
                i.c.key == source.key,
                i.c.etag == source.etag,
                i.c.version_id == source.version_id,
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else tables.row_to_import(row)


def _stage(conn: Connection, batches: Iterable[list[GameFields]]) -> int:
    """COPY each batch into the staging table as it arrives; returns how many games came."""
    conn.execute(text(_STAGING))
    driver = conn.connection.driver_connection
    assert driver is not None
    received = 0
    with driver.cursor() as cursor:
        for batch in batches:
            if not batch:
                continue
            with cursor.copy(_COPY) as copy:
                for fields in batch:
                    copy.write_row(_copy_row(received, fields))
                    received += 1
    return received


def _publish(conn: Connection, source: ImportSource, received: int) -> Import:
    # The stream took its time: the publish's statements get only what is left of the deadline.
    bound_to_deadline(conn)
    import_id = conn.execute(
        insert(i)
        .values(bucket=source.bucket, key=source.key, etag=source.etag, version_id=source.version_id)
        .values(state=ImportState.PUBLISHED.value, received_count=received, revision=0)
        .returning(i.c.id)
    ).scalar_one()
    params = {"import_id": import_id}
    conn.execute(text(_DEDUPE))
    # Writers wait while the import publishes (readers do not), so the prior images stay exact. Taking
    # the lock waits for writers in progress only up to the lock timeout: queued behind, it would stop
    # every later writer too.
    conn.execute(text("LOCK TABLE catalog.games IN SHARE ROW EXCLUSIVE MODE"))
    conn.execute(text(_PRIORS), params)
    conn.execute(text(_UPSERT), params)
    counts = conn.execute(text(_COUNTS), params).mappings().one()
    revision = bump_revision(conn=conn)
    row = (
        conn.execute(
            i.update()
            .where(i.c.id == import_id)
            .values(
                created_count=counts["created"],
                updated_count=counts["updated"],
                unchanged_count=counts["distinct_count"] - counts["created"] - counts["updated"],
                revision=revision,
                publish_time=text("clock_timestamp()"),
            )
            .returning(i)
        )
        .mappings()
        .one()
    )
    return tables.row_to_import(row)


def import_games(*, conn: Connection, source: ImportSource, batches: Iterable[list[GameFields]]) -> Import:
    """Stage and publish games in the caller's transaction; a published source returns as it was.

    The import is atomic because the caller commits staging and publishing together, or neither.
    """
    if source.bucket:
        # Two concurrent imports of one file: the second waits here, then finds the first.
        with patient_lock_wait(conn):
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _source_lock_key(source)})
        existing = _find_by_source(conn, source)
        if existing is not None:
            return existing
    received = _stage(conn, batches)
    return _publish(conn, source, received)


def get_import(*, conn: Connection, import_id: int) -> Import:
    """One import by id; NotFound when missing."""
    row = conn.execute(select(i).where(i.c.id == import_id)).mappings().first()
    if row is None:
        raise NotFound(f"import {import_id} does not exist")
    return tables.row_to_import(row)


def list_imports(*, conn: Connection, before_id: int | None, limit: int) -> list[Import]:
    """Imports newest first, with id < before_id (keyset)."""
    query = select(i).order_by(i.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(i.c.id < before_id)
    return [tables.row_to_import(row) for row in conn.execute(query).mappings()]
