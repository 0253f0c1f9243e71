"""The engine and the one place driver errors become platform errors.

Callers run SQL inside `transaction(engine)` or `connection(engine)`; a connection failure, a pool
timeout or a lost server leaves as `Unavailable`, a unique violation as `AlreadyExists`, a
serialization conflict as `Aborted`, and no driver message (which may quote SQL or values) reaches a
caller.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Connection, Engine, create_engine, exc, text

from gamekit.errors import Aborted, AlreadyExists, GamesError, Unavailable

UNAVAILABLE_MESSAGE = "the catalog database is unavailable"


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 5, pool_timeout: float = 5.0) -> Engine:
    """A pooled engine that checks connections before use, so a restarted database is picked up."""
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        # Fail fast when the server is gone instead of hanging in connect().
        connect_args={"connect_timeout": 5, "application_name": "catalog"},
    )


def _platform_error(error: BaseException | None) -> GamesError | None:
    if isinstance(error, psycopg.errors.UniqueViolation):
        return AlreadyExists("the resource already exists")
    if isinstance(error, psycopg.errors.TransactionRollback):  # serialization failure, deadlock
        return Aborted("a concurrent change conflicted; retry", reason="CONCURRENT_CHANGE")
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return Unavailable(UNAVAILABLE_MESSAGE)
    return None


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver and pool errors into Unavailable, AlreadyExists or Aborted, chained with `from`."""
    try:
        yield
    except exc.TimeoutError as error:  # the pool had no free connection in time
        raise Unavailable(UNAVAILABLE_MESSAGE) from error
    except exc.DBAPIError as error:
        mapped = _platform_error(error.orig)
        if mapped is None and error.connection_invalidated:
            mapped = Unavailable(UNAVAILABLE_MESSAGE)
        if mapped is None:
            raise
        raise mapped from error
    except psycopg.Error as error:  # raised by the driver directly, e.g. during COPY
        mapped = _platform_error(error)
        if mapped is None:
            raise
        raise mapped from error


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    with translate_errors(), engine.begin() as conn:
        yield conn


@contextmanager
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reads, in one READ COMMITTED transaction rolled back at the end."""
    with translate_errors(), engine.connect() as conn:
        yield conn


def ping(*, engine: Engine) -> None:
    """Raise Unavailable unless the database answers SELECT 1."""
    with connection(engine) as conn:
        conn.execute(text("SELECT 1"))
