"""Alembic environment of the catalog: the URL comes from `catalog.storage.migrate`, no ini file."""

from __future__ import annotations

from catalog.storage.tables import SCHEMA, metadata
from gamekit.database.migrations import run_migrations

# Two replicas starting at once must not both run the same migration.
MIGRATION_LOCK_KEY = 0x63617461_6C6F6701  # "catalog" + 1

run_migrations(schema=SCHEMA, lock_key=MIGRATION_LOCK_KEY, metadata=metadata)
