"""Alembic run from code for every service that owns a schema.

No alembic.ini is needed at run time: the config is built here, the database URL travels as a config
attribute, each service's version table lives in its own schema (so services sharing a database never
meet), and online runs hold a PostgreSQL advisory lock so two replicas never run the same migration.
A service's `migrations/env.py` is one call to `run_migrations` with its schema, lock key and metadata.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool, text
from sqlalchemy.exc import OperationalError

VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class Migrations:
    """The packaged migrations of one service, applied to a database given by URL."""

    script_location: Path

    def config(self, database_url: str) -> Config:
        """An Alembic config pointing at the packaged migrations and the given database."""
        config = Config()
        config.set_main_option("script_location", str(self.script_location))
        # Passed as an attribute, not a main option: configparser would choke on '%' in passwords.
        config.attributes["database_url"] = database_url
        return config

    def upgrade(self, database_url: str, revision: str = "head") -> None:
        """Bring the service's schema of `database_url` up to `revision` (the latest by default)."""
        command.upgrade(self.config(database_url), revision)

    def upgrade_command(self, database_url: str, *, database: str, log: logging.Logger) -> int:
        """`<service> migrate`: upgrade to head, or one clear line and exit code 1 when `database` is down."""
        try:
            self.upgrade(database_url)
        except OperationalError as error:
            log.error("cannot migrate: the %s is unreachable (%s)", database, type(error.orig).__name__)
            return 1
        log.info("migrations applied")
        return 0

    def downgrade(self, database_url: str, revision: str) -> None:
        """Take the service's schema of `database_url` back to `revision` (`base` drops it)."""
        command.downgrade(self.config(database_url), revision)


def run_migrations(*, schema: str, lock_key: int, metadata: MetaData) -> None:
    """The body of an env.py: emit the SQL in offline mode, else run it under the advisory lock."""
    if context.is_offline_mode():
        _run_offline(schema=schema, metadata=metadata)
    else:
        _run_online(schema=schema, lock_key=lock_key, metadata=metadata)


def _configure(schema: str, metadata: MetaData, **options: Any) -> None:
    context.configure(
        target_metadata=metadata, version_table_schema=schema, version_table=VERSION_TABLE, **options
    )


def _run_offline(*, schema: str, metadata: MetaData) -> None:
    # `alembic upgrade --sql`: the statements are printed, not run.
    _configure(schema, metadata, url=context.config.attributes["database_url"], literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run_online(*, schema: str, lock_key: int, metadata: MetaData) -> None:
    engine = create_engine(context.config.attributes["database_url"], poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key})
            # The version table lives in the service's schema, so the schema must exist before Alembic looks.
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
            conn.commit()
            _configure(schema, metadata, connection=conn, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key})
            conn.commit()
    finally:
        engine.dispose()
