"""Engines and the one place driver errors become platform errors, for every service with a database.

Each service describes its database once as a `Database` and runs SQL inside its `transaction(engine)`
or `connection(engine)`: a connection failure, a pool timeout or a lost server leaves as `Unavailable`
(with the service's own message) and, where the service asks for it, a unique violation as
`AlreadyExists` and a serialization conflict as `Aborted`. No driver message (which may quote SQL or
values) reaches a caller. Advisory locks are keyed here too, and session locks released, one way for all.

No statement outlives its use. Every connection starts with the server's maxima (`statement_timeout`,
`lock_timeout`, as startup options), and each transaction cuts the statement timeout to the caller's
remaining gRPC deadline when that is shorter (`bound_to_deadline`, SET LOCAL). PostgreSQL then cancels
the statement itself, the transaction rolls back and the connection goes back to the pool, usable: a
lock wait past the lock timeout is `Unavailable` (LOCK_TIMEOUT, retry), a statement stopped by the
caller's deadline `DeadlineExceeded`, one stopped by the server's maximum `ResourceExhausted`
(QUERY_TIMEOUT).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from sqlalchemy import Connection, Engine, create_engine, exc, func, select, text

from gamekit.call_context import time_remaining
from gamekit.errors import (
    Aborted,
    AlreadyExists,
    DeadlineExceeded,
    GamesError,
    ResourceExhausted,
    Unavailable,
)

# The engine's statement maximum in seconds, kept in its execution options for `bound_to_deadline`.
_STATEMENT_TIMEOUT = "gamekit_statement_timeout"
# A statement cancelled with less than this left of the caller's deadline was cancelled by the deadline.
_DEADLINE_SLACK = 0.01
_LATE = "the deadline passed while the database was working; the call had no effect"
_BUSY = "another change to the same data is in progress; retry shortly"
_SLOW = "the query ran longer than the service allows and was stopped; narrow it or retry later"


def _milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


def _timeout_error(error: BaseException | None) -> GamesError | None:
    """The platform error for a statement PostgreSQL cancelled at a timeout; None for anything else."""
    if isinstance(error, psycopg.errors.LockNotAvailable):
        return Unavailable(_BUSY, reason="LOCK_TIMEOUT")
    if isinstance(error, psycopg.errors.QueryCanceled):
        remaining = time_remaining()
        if remaining is not None and remaining < _DEADLINE_SLACK:
            return DeadlineExceeded(_LATE)
        return ResourceExhausted(_SLOW, retry_after=1.0, reason="QUERY_TIMEOUT")
    return None


def bound_to_deadline(conn: Connection) -> None:
    """Cut this transaction's statement timeout to the caller's remaining deadline, when that is shorter.

    `transaction` and `connection` call it as they begin; a long transaction (a streamed import) calls it
    again before its heavy statements. DeadlineExceeded at once when the deadline has already passed.
    """
    remaining = time_remaining()
    if remaining is None:
        return
    if remaining <= 0:
        raise DeadlineExceeded(_LATE)
    maximum = conn.get_execution_options().get(_STATEMENT_TIMEOUT)
    if maximum is not None and remaining >= maximum:
        return
    conn.execute(
        text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": str(_milliseconds(remaining))}
    )


@contextmanager
def patient_lock_wait(conn: Connection) -> Iterator[None]:
    """Inside, a lock wait is bounded by the statement timeout only, not by the lock timeout.

    For a wait that is the design (a second import of one file waits for the first to finish), not
    contention that should give up early.
    """
    conn.execute(text("SET LOCAL lock_timeout = 0"))
    yield
    conn.execute(text("SET LOCAL lock_timeout TO DEFAULT"))


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
    # Server maxima in seconds (settings override them per engine): a statement's run, a lock wait.
    statement_timeout: float = 60.0
    lock_timeout: float = 5.0

    def make_engine(
        self,
        url: str,
        *,
        pool_size: int | None = None,
        max_overflow: int | None = None,
        pool_timeout: float | None = None,
        statement_timeout: float | None = None,
        lock_timeout: float | None = None,
    ) -> Engine:
        """A pooled engine that checks connections before use, so a restarted database is picked up."""
        statement_timeout = self.statement_timeout if statement_timeout is None else statement_timeout
        lock_timeout = self.lock_timeout if lock_timeout is None else lock_timeout
        limits = {
            "statement_timeout": _milliseconds(statement_timeout),
            "lock_timeout": _milliseconds(lock_timeout),
        }
        return create_engine(
            url,
            pool_size=self.pool_size if pool_size is None else pool_size,
            max_overflow=self.max_overflow if max_overflow is None else max_overflow,
            pool_timeout=self.pool_timeout if pool_timeout is None else pool_timeout,
            pool_pre_ping=True,
            execution_options={_STATEMENT_TIMEOUT: statement_timeout},
            connect_args={
                # Session defaults from the start: what `bound_to_deadline` shortens, and what remains
                # for connections used outside `transaction` (ingestion's claims and run leases).
                "options": " ".join(f"-c {name}={ms}" for name, ms in limits.items()),
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
        timeout = _timeout_error(error)
        if timeout is not None:
            return timeout
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
            mapped = self._platform_error(error) if self.conflicts else _timeout_error(error)
            if mapped is None:
                raise
            raise mapped from error

    @contextmanager
    def transaction(self, engine: Engine) -> Iterator[Connection]:
        """One transaction under the caller's deadline: committed at the end of the block, or rolled back."""
        with self.translate_errors(), engine.begin() as conn:
            bound_to_deadline(conn)
            yield conn

    @contextmanager
    def connection(self, engine: Engine) -> Iterator[Connection]:
        """A connection for reads: one READ COMMITTED transaction under the caller's deadline, rolled back."""
        with self.translate_errors(), engine.connect() as conn:
            bound_to_deadline(conn)
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
