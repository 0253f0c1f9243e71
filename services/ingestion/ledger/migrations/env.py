"""Alembic environment of ingestion: the URL comes from `ingestion.ledger.migrate`, never from an ini file.

The version table lives in schema `ingestion`, so the catalog's migrations and these never meet,
even though both live in the same database.
"""

from __future__ import annotations

from gamekit.database.migrations import run_migrations
from ingestion.ledger.tables import SCHEMA, metadata

# Two replicas starting at once must not both run the same migration.
MIGRATION_LOCK_KEY = 0x696E6765_73740001  # "ingest" + 1

run_migrations(schema=SCHEMA, lock_key=MIGRATION_LOCK_KEY, metadata=metadata)
