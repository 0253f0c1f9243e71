"""Engines and the one place driver errors become platform errors, for every service with a database.

Each service describes its database once as a `Database` and runs SQL inside its `transaction(engine)`
or `connection(engine)`: a connection failure, a pool timeout or a lost server leaves as `Unavailable`
(with the service's own message) and, where the service asks for it, a unique violation as
`AlreadyExists` and a serialization conflict as `Aborted`. No driver message (which may quote SQL or
values) reaches a caller. Advisory locks are keyed here too, and session locks released, one way for all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from sqlalchemy import Connection, Engine, create_engine, exc, func, select

from gamekit.errors import Aborted, AlreadyExists, GamesError, Unavailable


@dataclass(frozen=True)
class Database:
    """One service's database: its engine settings and how its failures read to callers."""

    application_name: str
    unavailable_message: str
    pool_size: int
    pool_timeout: float
    max_overflow: int = 5
    # Also map unique violations, serialization failures and errors the driver raises directly.
    conflicts: bool = True

    def make_engine(
        self,
        url: str,
        *,
        pool_size: int | None = None,
        max_overflow: int | None = None,
        pool_timeout: float | None = None,
    ) -> Engine:
        """A pooled engine that checks connections before use, so a restarted database is picked up."""
        return create_engine(
            url,
            pool_size=self.pool_size if pool_size is None else pool_size,
            max_overflow=self.max_overflow if max_overflow is None else max_overflow,
            pool_timeout=self.pool_timeout if pool_timeout is None else pool_timeout,
            pool_pre_ping=True,
            connect_args={
                # Fail fast when the server is gone instead of hanging in connect().
                "connect_timeout": 5,
                "application_name": self.application_name,
                # TCP keepalives: a connection idle for a whole import (ingestion's run lock) must not be
                # dropped by a NAT or firewall idle timeout, and a dead peer is noticed within a minute.
                "keepalives": 1,
                "keepalives_idle": 30,
                "keepalives_interval": 10,
                "keepalives_count": 3,
            },
        )

    def _platform_error(self, error: BaseException | None) -> GamesError | None:
        if self.conflicts:
            if isinstance(error, psycopg.errors.UniqueViolation):
                return AlreadyExists("the resource already exists")
            if isinstance(error, psycopg.errors.TransactionRollback):  # serialization failure, deadlock
                return Aborted("a concurrent change conflicted; retry", reason="CONCURRENT_CHANGE")
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            return Unavailable(self.unavailable_message)
        return None

    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn driver and pool errors into platform errors, chained with `from`."""
        try:
            yield
        except exc.TimeoutError as error:  # the pool had no free connection in time
            raise Unavailable(self.unavailable_message) from error
        except exc.DBAPIError as error:
            mapped = self._platform_error(error.orig)
            if mapped is None and error.connection_invalidated:
                mapped = Unavailable(self.unavailable_message)
            if mapped is None:
                raise
            raise mapped from error
        except psycopg.Error as error:  # raised by the driver directly, e.g. during COPY
            mapped = self._platform_error(error) if self.conflicts else None
            if mapped is None:
                raise
            raise mapped from error

    @contextmanager
    def transaction(self, engine: Engine) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self.translate_errors(), engine.begin() as conn:
            yield conn

    @contextmanager
    def connection(self, engine: Engine) -> Iterator[Connection]:
        """A connection for reads, in one READ COMMITTED transaction rolled back at the end."""
        with self.translate_errors(), engine.connect() as conn:
            yield conn


def advisory_lock_key(*identity: str | int) -> int:
    """The 64-bit PostgreSQL advisory lock key of what `identity` names (a namespace first, by custom)."""
    digest = hashlib.sha256(json.dumps(list(identity)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def release_session_lock(conn: Connection, key: int) -> None:
    """Release a session advisory lock held on `conn`; a connection that cannot is invalidated instead.

    A session lock outlives a rollback, and a broken connection must never go back to the pool still
    holding one (nobody else could take the lock until the pool let the connection go).
    """
    try:
        conn.rollback()
        conn.execute(select(func.pg_advisory_unlock(key)))
        conn.commit()
    except exc.DBAPIError:
        conn.invalidate()
