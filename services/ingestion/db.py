"""The ledger's engine and the one place driver errors become platform errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Connection, Engine, create_engine, exc

from gamekit.errors import Unavailable

UNAVAILABLE_MESSAGE = "the ingestion ledger database is unavailable"


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 5, pool_timeout: float = 10.0) -> Engine:
    """A pooled engine that checks connections before use, so a restarted database is picked up."""
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5, "application_name": "ingestion"},
    )


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn connection and pool errors into Unavailable, chained with `from`."""
    try:
        yield
    except exc.TimeoutError as error:
        raise Unavailable(UNAVAILABLE_MESSAGE) from error
    except exc.DBAPIError as error:
        if error.connection_invalidated or isinstance(
            error.orig, psycopg.OperationalError | psycopg.InterfaceError
        ):
            raise Unavailable(UNAVAILABLE_MESSAGE) from error
        raise


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    with translate_errors(), engine.begin() as conn:
        yield conn


@contextmanager
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reads, rolled back at the end."""
    with translate_errors(), engine.connect() as conn:
        yield conn
