"""The run and file locks a stopped or killed ingestion process leaves until PostgreSQL ends its sessions."""

from __future__ import annotations

from sqlalchemy import Engine, text

from tests.fixtures.eventually import eventually

ADVISORY_LOCKS = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def advisory_locks(engine: Engine) -> int:
    """Advisory locks held in `engine`'s database: the ledger's run and file locks."""
    with engine.connect() as conn:
        return int(conn.execute(ADVISORY_LOCKS).scalar_one())


def wait_until_no_advisory_locks(engine: Engine, timeout: float) -> None:
    """Until PostgreSQL has ended a stopped process's sessions, and with them its run and file locks."""
    eventually(
        lambda: advisory_locks(engine) == 0,
        timeout=timeout,
        interval=0.05,
        what=lambda: f"the stopped process's locks released; {advisory_locks(engine)} still held",
    )
