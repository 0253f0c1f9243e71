"""Responses of catalog reads, kept until the catalog revision changes; bounded LRU.

Keys are (full method, canonical form of the request, catalog revision); values are the catalog's
answers as it serialized them, sent on unchanged. The canonical form is the request's known fields only,
serialized deterministically: unknown fields are dropped, and re-encoding folds what the wire allows
several ways to say (an explicit default, a repeated field, field order) into one, so a caller cannot
mint entries for one query by padding it and flush everyone else's out of the LRU. The forwarder sends
the backend that same canonical request, so an answer is never kept under a key that ignores a field
the backend read. The revision comes from `RevisionFollower`;
while it is unknown (the watch is down) every read bypasses the cache, so a caller gets the backend's
answer or its error, never stale data. The entries outlive a gap in the watch (the catalog ends every
connection after five and a half minutes) when it comes back at the revision they were kept for: the
revision changes with every write, so an unchanged one means none went stale. A write through this
gateway drops everything at once (`invalidate`), so it shows on the very next read even before the watch
reports the new revision. A read stores its answer only if no revision change or write happened while it
was in flight, so an answer older than a write is never cached under a key that outlives it.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass

from google.protobuf.message import Message
from prometheus_client import Counter, Gauge

from gamekit.security.identity import method_of

LOOKUPS = Counter(
    "gateway_cache_lookups_total",
    "Cache lookups by method and result (hit, miss, bypass).",
    ["grpc_method", "result"],
)
ENTRIES = Gauge("gateway_cache_entries", "Responses in the cache.")
BYTES = Gauge("gateway_cache_bytes", "Serialized bytes of the responses in the cache.")
HIT_RATIO = Gauge("gateway_cache_hit_ratio", "Hits over hits plus misses since the process started.")

_totals = {"hit": 0, "miss": 0}
_totals_lock = threading.Lock()


@functools.cache
def _lookups(method: str, result: str) -> Counter:
    # One child per method and result, looked up once: labels() takes a lock and builds a key.
    return LOOKUPS.labels(method_of(method), result)


def _count(method: str, result: str) -> None:
    _lookups(method, result).inc()
    with _totals_lock:
        if result in _totals:
            _totals[result] += 1


def _hit_ratio() -> float:
    with _totals_lock:
        looked = _totals["hit"] + _totals["miss"]
        return _totals["hit"] / looked if looked else 0.0


HIT_RATIO.set_function(_hit_ratio)

_Key = tuple[str, bytes, int]


@dataclass(frozen=True)
class Ticket:
    """What a lookup saw: where to store the answer, and the state it must still match."""

    key: _Key
    generation: int


def canonical_bytes(request: Message) -> bytes:
    """The request's known fields, serialized deterministically: equal for requests that mean the same."""
    known = type(request)()
    known.CopyFrom(request)
    known.DiscardUnknownFields()
    return known.SerializeToString(deterministic=True)


class ResponseCache:
    """An LRU of read responses, bounded by entries and bytes, valid for one catalog revision."""

    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[_Key, tuple[bytes, int]] = OrderedDict()
        self._bytes = 0
        self._revision: int | None = None
        self._kept_for: int | None = None  # the revision the entries were stored at
        self._generation = 0

    @property
    def revision(self) -> int | None:
        """The catalog revision now; None while it is unknown (the cache is bypassed)."""
        return self._revision

    def set_revision(self, revision: int | None) -> None:
        """A revision from the watch, or None while the watch is down; a new revision empties the cache."""
        with self._lock:
            self._revision = revision
            if revision is not None and revision != self._kept_for:
                self._clear()
                self._kept_for = revision

    def invalidate(self) -> None:
        """Drop every entry: a write went through this gateway."""
        with self._lock:
            self._clear()

    def lookup(self, method: str, request: Message) -> tuple[bytes | None, Ticket | None]:
        """(cached response, None) on a hit; (None, ticket to store with) on a miss; (None, None) bypass."""
        if self.max_entries == 0 or self._revision is None:
            _count(method, "bypass")
            return None, None
        body = canonical_bytes(request)
        with self._lock:
            if self._revision is None:
                _count(method, "bypass")
                return None, None
            key = (method, body, self._revision)
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                _count(method, "hit")
                return found[0], None
            _count(method, "miss")
            return None, Ticket(key, self._generation)

    def store(self, ticket: Ticket, response: bytes) -> None:
        """Keep `response` for the ticket's key, unless the revision or generation moved meanwhile."""
        size = len(response) + len(ticket.key[1]) + len(ticket.key[0])
        if size > self.max_bytes:
            return
        with self._lock:
            if ticket.generation != self._generation or ticket.key[2] != self._revision:
                return
            previous = self._entries.pop(ticket.key, None)
            if previous is not None:
                self._bytes -= previous[1]
            self._entries[ticket.key] = (response, size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= evicted
            self._publish()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        """Bytes held now."""
        return self._bytes

    def _clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._bytes = 0
        self._publish()

    def _publish(self) -> None:
        ENTRIES.set(len(self._entries))
        BYTES.set(self._bytes)
