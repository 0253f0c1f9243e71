"""ResponseCache: LRU by entries and bytes, revision and generation checks, bypass while unknown."""

from __future__ import annotations

from games.catalog.v1 import catalog_pb2 as cpb
from gateway.cache.responses import ResponseCache

M = "/games.catalog.v1.CatalogService/GetGame"


def request(n: int) -> cpb.GetGameRequest:
    return cpb.GetGameRequest(name=f"games/{n}")


def response(n: int, size: int = 10) -> bytes:
    return cpb.GetGameResponse(game=cpb.Game(name=f"games/{n}", display_name="x" * size)).SerializeToString()


def fill(cache: ResponseCache, n: int, size: int = 10) -> None:
    hit, ticket = cache.lookup(M, request(n))
    assert hit is None
    assert ticket is not None
    cache.store(ticket, response(n, size))


def test_bypassed_until_a_revision_is_known() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=10_000)
    assert cache.lookup(M, request(1)) == (None, None)
    cache.set_revision(7)
    fill(cache, 1)
    assert cache.lookup(M, request(1))[0] == response(1)
    cache.set_revision(None)
    assert cache.lookup(M, request(1)) == (None, None)


def test_least_recently_used_goes_first_when_over_entries() -> None:
    cache = ResponseCache(max_entries=2, max_bytes=10_000)
    cache.set_revision(1)
    fill(cache, 1)
    fill(cache, 2)
    cache.lookup(M, request(1))  # 1 is now the most recently used
    fill(cache, 3)
    assert cache.lookup(M, request(1))[0] is not None
    assert cache.lookup(M, request(2))[0] is None
    assert len(cache) == 2


def test_bounded_by_bytes() -> None:
    cache = ResponseCache(max_entries=100, max_bytes=1000)
    cache.set_revision(1)
    for n in range(10):
        fill(cache, n, size=300)
    assert cache.size_bytes <= 1000
    assert len(cache) == 2
    fill(cache, 99, size=5000)  # larger than the whole cache: not kept, nothing evicted for it
    assert len(cache) == 2


def test_answers_from_before_a_change_are_not_stored() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=10_000)
    cache.set_revision(1)
    _, ticket = cache.lookup(M, request(1))
    assert ticket is not None
    cache.invalidate()  # a write finished while the read was in flight
    cache.store(ticket, response(1))
    assert cache.lookup(M, request(1))[0] is None

    _, ticket = cache.lookup(M, request(1))
    assert ticket is not None
    cache.set_revision(2)
    cache.store(ticket, response(1))
    assert cache.lookup(M, request(1))[0] is None


def test_entries_outlive_a_watch_gap_that_ends_at_their_revision() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=10_000)
    cache.set_revision(1)
    fill(cache, 1)
    _, in_flight = cache.lookup(M, request(2))
    cache.set_revision(None)  # the watch broke: bypassed, nothing stored meanwhile
    assert cache.lookup(M, request(1)) == (None, None)
    assert in_flight is not None
    cache.store(in_flight, response(2))
    cache.set_revision(1)  # back, and nothing was written in between
    assert cache.lookup(M, request(1))[0] == response(1)
    assert len(cache) == 1
    cache.set_revision(None)
    cache.set_revision(2)  # back, after a write
    assert cache.lookup(M, request(1))[0] is None
    assert cache.size_bytes == 0


def test_a_new_revision_empties_the_cache_and_the_same_one_does_not() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=10_000)
    cache.set_revision(1)
    fill(cache, 1)
    cache.set_revision(1)
    assert len(cache) == 1
    cache.set_revision(2)
    assert len(cache) == 0
    assert cache.size_bytes == 0


def test_zero_entries_turns_the_cache_off() -> None:
    cache = ResponseCache(max_entries=0, max_bytes=10_000)
    cache.set_revision(1)
    assert cache.lookup(M, request(1)) == (None, None)


def test_a_request_with_unknown_fields_is_the_same_request() -> None:
    cache = ResponseCache(max_entries=10, max_bytes=10_000)
    cache.set_revision(1)
    fill(cache, 1)
    padded = cpb.GetGameRequest.FromString(request(1).SerializeToString() + b"\xc0\x3e\x01")  # field 1000
    assert padded != request(1), "the unknown field is kept by the parser"
    assert cache.lookup(M, padded)[0] == response(1)
    assert len(cache) == 1
