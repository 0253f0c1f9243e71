"""The catalog's database: engine settings and error translation, on gamekit.database.engines.

A connection failure, a pool timeout or a lost server leaves as `Unavailable`, a unique violation as
`AlreadyExists`, a serialization conflict as `Aborted`, and no driver message reaches a caller. Every
statement runs under the statement and lock timeouts (see gamekit.database.engines); the statement maximum is
long because an import's publish is a few statements over every game it brings.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from gamekit.database.engines import Database

# The domain service opens transactions with these and names their types from here, never from SQLAlchemy.
__all__ = ["CATALOG_DATABASE", "Connection", "Engine", "connection", "make_engine", "ping", "transaction"]

CATALOG_DATABASE = Database(
    application_name="catalog",
    unavailable_message="the catalog database is unavailable",
    pool_size=10,
    pool_timeout=5.0,
    statement_timeout=300.0,
)
make_engine = CATALOG_DATABASE.make_engine
transaction = CATALOG_DATABASE.transaction
connection = CATALOG_DATABASE.connection


def ping(*, conn: Connection) -> None:
    """Raise Unavailable unless the database answers SELECT 1 on `conn`."""
    conn.execute(text("SELECT 1"))
