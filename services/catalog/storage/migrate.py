"""Apply the catalog's Alembic migrations from code: no alembic.ini is needed at run time."""

from __future__ import annotations

from pathlib import Path

from gamekit.database.migrations import Migrations

MIGRATIONS = Migrations(Path(__file__).resolve().parent / "migrations")

# upgrade(database_url, revision="head") and downgrade(database_url, revision) on the catalog schema.
upgrade = MIGRATIONS.upgrade
downgrade = MIGRATIONS.downgrade
