"""Follows the catalog's WatchRevision stream and hands every revision to the response cache.

Runs on its own thread for the life of the process. When the stream breaks it tells the cache the
revision is unknown (so reads bypass it), then reconnects with capped, jittered exponential backoff. A
stream that had been delivering and ends is routine (the catalog ends every connection after five and a
half minutes, and drains its streams when it stops): that is logged at INFO; a reconnect that fails is a
WARNING, since the cache stays bypassed until the catalog answers again.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

import grpc
from prometheus_client import Counter, Gauge

from gamekit.status import status_code
from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from gateway.cache.responses import ResponseCache

log = logging.getLogger(__name__)

WATCH_UP = Gauge("gateway_revision_watch_up", "1 while the catalog revision watch is connected.")
WATCH_BREAKS = Counter("gateway_revision_watch_breaks_total", "Times the revision watch broke.")


class RevisionFollower:
    """A thread feeding `cache` the catalog revision from `channel`, reconnecting when it breaks."""

    def __init__(
        self,
        channel: grpc.Channel,
        cache: ResponseCache,
        *,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        self._stub = catalog_pb2_grpc.CatalogServiceStub(channel)
        self._cache = cache
        self._initial_backoff = initial_backoff
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._cancel: Callable[[], object] | None = None
        self._thread = threading.Thread(target=self._run, name="gateway-revision", daemon=True)

    def start(self) -> RevisionFollower:
        """Start following; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Cancel the stream and wait for the thread."""
        self._stop.set()
        with self._lock:
            cancel = self._cancel
        if cancel is not None:
            cancel()
        self._thread.join(timeout=5)
        self._cache.set_revision(None)

    def _run(self) -> None:
        backoff = self._initial_backoff
        while not self._stop.is_set():
            got_one, code = self._follow_once()
            self._cache.set_revision(None)
            WATCH_UP.set(0)
            if self._stop.is_set():
                return
            WATCH_BREAKS.inc()
            if got_one:
                log.info("revision watch ended; reconnecting", extra={"fields": {"code": code}})
                backoff = self._initial_backoff
            else:
                log.warning(
                    "revision watch could not connect; cache bypassed until it is back",
                    extra={"fields": {"code": code}},
                )
            # Full jitter: replicas that lost the catalog together do not all come back at once.
            self._stop.wait(random.uniform(0, backoff))  # noqa: S311 - jitter, not a secret
            backoff = min(self._max_backoff, backoff * 2)

    def _follow_once(self) -> tuple[bool, str]:
        """Consume one stream until it ends: (whether it delivered a revision, how it ended)."""
        got_one = False
        call = self._stub.WatchRevision(catalog_pb2.WatchRevisionRequest(), wait_for_ready=False)
        cancel: Callable[[], object] = call.cancel
        with self._lock:
            self._cancel = cancel
        if self._stop.is_set():
            cancel()
        code = grpc.StatusCode.OK.name
        try:
            for message in call:
                if not got_one:
                    log.info("revision watch connected", extra={"fields": {"revision": message.revision}})
                    WATCH_UP.set(1)
                got_one = True
                self._cache.set_revision(message.revision)
        except grpc.RpcError as error:
            code = status_code(error).name
        finally:
            with self._lock:
                self._cancel = None
        return got_one, code
