"""Alembic environment of ingestion: the URL comes from `ingestion.migrate`, never from an ini file.

The version table lives in schema `ingestion`, so the catalog's migrations and these never meet,
even though both live in the same database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from ingestion.ledger_tables import SCHEMA, metadata

VERSION_TABLE = "alembic_version"
# Two replicas starting at once must not both run the same migration.
MIGRATION_LOCK_KEY = 0x696E6765_73740001  # "ingest" + 1


def run_offline() -> None:
    """Emit the SQL instead of running it (`alembic upgrade --sql`)."""
    context.configure(
        url=context.config.attributes["database_url"],
        target_metadata=metadata,
        literal_binds=True,
        version_table_schema=SCHEMA,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on one connection, under an advisory lock."""
    engine = create_engine(context.config.attributes["database_url"], poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
            conn.commit()
            context.configure(
                connection=conn,
                target_metadata=metadata,
                version_table_schema=SCHEMA,
                version_table=VERSION_TABLE,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
