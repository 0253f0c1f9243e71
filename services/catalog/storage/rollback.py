"""Rolling back an import: put back every prior image it recorded, in the caller's one transaction.

An import can be rolled back only while every game it changed still carries the etag it left; a
rollback restores the exact prior rows (etags included), so rolling back a later import first makes
an earlier one eligible again.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, text

from catalog.model import Import, ImportState
from catalog.storage import tables
from catalog.storage.imports import get_import
from catalog.storage.revision import bump_revision
from gamekit.errors import FailedPrecondition

_SUPERSEDED = """
SELECT count(*) FROM catalog.import_changes c LEFT JOIN catalog.games g ON g.id = c.game_id
WHERE c.import_id = :import_id AND g.etag IS DISTINCT FROM c.after_etag
"""
_DELETE_CREATED = """
DELETE FROM catalog.games g USING catalog.import_changes c
WHERE c.import_id = :import_id AND c.prior IS NULL AND g.id = c.game_id
"""
_RESTORED = ", ".join(
    f"{c} = p.{c}" for c in (*tables.VALUE_COLUMNS, "etag", "create_time", "update_time", "last_import_id")
)
_RESTORE_UPDATED = f"""
UPDATE catalog.games g SET {_RESTORED}
FROM catalog.import_changes c, jsonb_populate_record(NULL::catalog.games, c.prior) AS p
WHERE c.import_id = :import_id AND c.prior IS NOT NULL AND g.id = c.game_id
"""


def rollback_import(*, conn: Connection, import_id: int) -> Import:
    """Restore every game the import changed, in the caller's transaction (which must commit it whole).

    FailedPrecondition when superseded or already rolled back.
    """
    i = tables.imports
    params = {"import_id": import_id}
    # Serialise rollbacks of one import.
    conn.execute(select(i.c.id).where(i.c.id == import_id).with_for_update())
    current = get_import(conn=conn, import_id=import_id)
    if current.state is ImportState.ROLLED_BACK:
        raise FailedPrecondition(
            f"import {import_id} is already rolled back", reason="IMPORT_ALREADY_ROLLED_BACK"
        )
    conn.execute(text("LOCK TABLE catalog.games IN SHARE ROW EXCLUSIVE MODE"))
    superseded = conn.execute(text(_SUPERSEDED), params).scalar_one()
    if superseded:
        raise FailedPrecondition(
            f"{superseded} game(s) changed by import {import_id} were changed since; "
            "roll back the later imports or changes first",
            reason="IMPORT_SUPERSEDED",
        )
    conn.execute(text(_DELETE_CREATED), params)
    conn.execute(text(_RESTORE_UPDATED), params)
    bump_revision(conn=conn)
    row = (
        conn.execute(
            i.update()
            .where(i.c.id == import_id)
            .values(state=ImportState.ROLLED_BACK.value, rollback_time=text("clock_timestamp()"))
            .returning(i)
        )
        .mappings()
        .one()
    )
    return tables.row_to_import(row)
