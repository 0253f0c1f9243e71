"""The catalog revision: a counter every write bumps, and a feed pushing its changes to subscribers.

Writers call `bump_revision` inside their transaction; the NOTIFY it sends is delivered at commit, so
a listener never sees a revision whose data is not visible yet. `RevisionFeed` keeps one LISTEN
connection per process and fans the latest revision out to any number of subscribers.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine, func, select, update

from catalog.storage import tables

CHANNEL = "catalog_revision"
_log = logging.getLogger(__name__)


def bump_revision(*, conn: Connection) -> int:
    """Increment the revision in the caller's transaction and notify listeners at commit."""
    bumped = conn.execute(
        update(tables.revision)
        .where(tables.revision.c.id == 1)
        .values(revision=tables.revision.c.revision + 1)
        .returning(tables.revision.c.revision)
    ).scalar_one()
    conn.execute(select(func.pg_notify(CHANNEL, str(bumped))))
    return int(bumped)


def read_revision(*, conn: Connection) -> int:
    """The committed revision as this connection sees it."""
    return int(conn.execute(select(tables.revision.c.revision)).scalar_one())


class Subscription:
    """One subscriber's view of the feed: it remembers the last revision it was given."""

    def __init__(self, feed: RevisionFeed) -> None:
        self._feed = feed
        self._seen = feed.latest
        self._closed = False

    def next(self, timeout: float) -> int | None:
        """The latest revision if it changed since the last call, else None after `timeout` seconds."""
        latest = self._feed.wait_beyond(self._seen, timeout)
        if latest is None or self._closed:
            return None
        self._seen = latest
        return latest

    def close(self) -> None:
        """Stop receiving; a pending `next` returns None."""
        self._closed = True
        self._feed.unsubscribe(self)


class RevisionFeed:
    """A background thread LISTENing on the revision channel, reconnecting with backoff."""

    def __init__(self, *, engine: Engine, max_backoff: float = 2.0) -> None:
        url = engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._max_backoff = max_backoff
        self._changed = threading.Condition()
        self._latest = 0
        self._subscribers: set[Subscription] = set()
        self._stopping = threading.Event()
        self._closing = False
        self._healthy = False
        self._thread: threading.Thread | None = None

    @property
    def healthy(self) -> bool:
        """True while the LISTEN connection is up."""
        return self._healthy

    @property
    def closing(self) -> bool:
        """True once `close_subscriptions` was called: watches should end."""
        return self._closing

    def close_subscriptions(self) -> None:
        """Wake every subscriber now and let none wait again: the server is stopping."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()

    @property
    def latest(self) -> int:
        """The newest revision the feed has seen."""
        return self._latest

    def start(self) -> None:
        """Start the listening thread."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="revision-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, close the connection and wake every subscriber."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._changed:
            self._changed.notify_all()

    def subscribe(self) -> Subscription:
        """A new subscription; its first `next` returns only a revision newer than now."""
        subscription = Subscription(self)
        with self._changed:
            self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a subscription."""
        with self._changed:
            self._subscribers.discard(subscription)
            self._changed.notify_all()

    def wait_beyond(self, seen: int, timeout: float) -> int | None:
        """The revision once it passes `seen`; None after `timeout`, or at once when the feed is closing."""
        with self._changed:
            self._changed.wait_for(lambda: self._latest > seen or self._closing, timeout=timeout)
            return self._latest if self._latest > seen else None

    def _publish(self, revision: int) -> None:
        with self._changed:
            if revision > self._latest:
                self._latest = revision
                self._changed.notify_all()

    def _run(self) -> None:
        backoff = 0.05
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    # Re-read after LISTEN: anything committed while we were away is caught here.
                    row = conn.execute("SELECT revision FROM catalog.revision WHERE id = 1").fetchone()
                    if row is not None:
                        self._publish(int(row[0]))
                    self._healthy = True
                    backoff = 0.05
                    while not self._stopping.is_set():
                        for notify in conn.notifies(timeout=0.5):
                            self._publish(int(notify.payload))
            except Exception as error:
                if self._healthy or not isinstance(error, psycopg.OperationalError):
                    _log.warning("revision feed lost its database connection: %s", type(error).__name__)
                self._healthy = False
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)
        self._healthy = False
