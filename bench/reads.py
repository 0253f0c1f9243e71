"""Read scenarios: hot reads against the health floor, uncached search, gateway overhead, scale-out.

Every run drives one method with k6 (`bench.loadgen`); a figure and its floor run back to back.
- hot reads: repeated SearchGames and GetGame through the suite's gateway (answered from its cache
  after the warm-up; the hit ratio is recorded) against the bare health server (`bench.health_floor`).
- uncached search: each kind of query (`bench.games`) straight to the catalog and through a gateway
  whose cache is off, by one caller, so latency is the call's own and not queueing; the same for
  GetGame over thousands of games, whose difference at p50 is the gateway's overhead (a search's
  own time varies more than the overhead between two runs).
- scale-out: hot GetGame over one and two gateway processes (VUs split between them, as clients
  balance over replicas), and the floor over one and two processes, on the same machine.
"""

from __future__ import annotations

import statistics
import urllib.request
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import psycopg
from prometheus_client.parser import text_string_to_metric_families

from bench import health_floor, loadgen
from bench.games import Queries
from bench.loadgen import Figures, Load
from bench.platform import BenchPlatform
from gamectl.suite import RunningService
from tests.fixtures.servers import HOST

SEARCH = "games.catalog.v1.CatalogService/SearchGames"
GET = "games.catalog.v1.CatalogService/GetGame"
HEALTH = "grpc.health.v1.Health/Check"
HOT_KEYS = 20
# Distinct games read by the uncached GetGame runs (the catalog answers each from its primary key).
OVERHEAD_GETS = 5000


@dataclass(frozen=True)
class ReadSettings:
    """Load of the throughput runs (hot reads, scale-out) and of the latency runs (uncached search)."""

    throughput: Load
    latency: Load


def gateway_run(
    platform: BenchPlatform,
    method: str,
    requests: Sequence[dict[str, Any]],
    gateways: Sequence[RunningService],
    load: Load,
    extra_watch: Sequence[int] = (),
) -> Figures:
    """`method` through `gateways` (VUs split between them) with the bench key; their CPU watched."""
    return loadgen.run(
        method=method,
        requests=requests,
        targets=[f"{HOST}:{g.port}" for g in gateways],
        tls=platform.tls("operator"),
        load=load,
        api_key=platform.api_key,
        watch=[*(g.process.pid for g in gateways), *extra_watch],
    )


def floor_run(platform: BenchPlatform, processes: int, load: Load, *, aio: bool = False) -> Figures:
    with ExitStack() as stack:
        servers = [
            stack.enter_context(health_floor.started(platform.certs, aio=aio)) for _ in range(processes)
        ]
        return loadgen.run(
            method=HEALTH,
            requests=[{}],
            targets=[target for target, _ in servers],
            tls=platform.tls("operator"),
            load=load,
            watch=[pid for _, pid in servers],
        )


def cache_lookups(gateway: RunningService) -> dict[str, float]:
    """The gateway's cache lookups so far, by result (hit, miss, bypass)."""
    url = f"http://{HOST}:{gateway.env['GATEWAY_METRICS_PORT']}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gateway_cache_lookups_total":
                result = sample.labels["result"]
                totals[result] = totals.get(result, 0.0) + sample.value
    return totals


def hit_ratio(before: dict[str, float], after: dict[str, float]) -> float:
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in ("hit", "miss", "bypass")}
    looked = sum(delta.values())
    return delta["hit"] / looked if looked else 0.0


def hot_reads(platform: BenchPlatform, settings: ReadSettings, queries: Queries) -> dict[str, Any]:
    """The floor, then repeated SearchGames and GetGame through the gateway; last the floor on grpc.aio."""
    load = settings.throughput
    runs = cached_reads(platform, platform.service("gateway"), load, queries)
    return runs | {"floor_aio": floor_run(platform, 1, load, aio=True).as_dict()}


def cached_reads(
    platform: BenchPlatform, gateway: RunningService, load: Load, queries: Queries
) -> dict[str, Any]:
    """The floor, then repeated SearchGames and GetGame through `gateway`, and its cache's hit ratio."""
    floor = floor_run(platform, 1, load)
    before = cache_lookups(gateway)
    searches = [{"query": q} for q in queries.name[:HOT_KEYS]]
    search = gateway_run(platform, SEARCH, searches, [gateway], load)
    gets = [{"name": f"games/{i}"} for i in range(1, HOT_KEYS + 1)]
    get = gateway_run(platform, GET, gets, [gateway], load)
    return {
        "floor": floor.as_dict(),
        "search": search.as_dict(),
        "get": get.as_dict(),
        "cache_hit_ratio": hit_ratio(before, cache_lookups(gateway)),
    }


def uncached_search(platform: BenchPlatform, settings: ReadSettings, queries: Queries) -> dict[str, Any]:
    """Each kind of query, and GetGame over many games, straight to the catalog then through a gateway
    without cache: the search latencies, and the gateway's overhead on a call whose own cost is tiny."""
    catalog = platform.service("catalog")
    gateway = platform.start_gateway({"GATEWAY_CACHE_MAX_ENTRIES": "0"})
    runs = [
        (kind, SEARCH, [{"query": q} for q in getattr(queries, kind)]) for kind in ("name", "prefix", "word")
    ]
    step = max(1, queries.games // OVERHEAD_GETS)
    runs.append(("get", GET, [{"name": f"games/{1 + i}"} for i in range(0, queries.games, step)]))
    results: dict[str, Any] = {}
    try:
        for kind, method, requests in runs:
            direct = loadgen.run(
                method=method,
                requests=requests,
                targets=[platform.target("catalog")],
                tls=platform.tls("gateway"),  # the catalog serves reads to the gateway's identity
                load=settings.latency,
                watch=[catalog.process.pid],
            )
            through = gateway_run(
                platform, method, requests, [gateway], settings.latency, [catalog.process.pid]
            )
            results[kind] = {
                "catalog": direct.as_dict(),
                "gateway": through.as_dict(),
                "requests": len(requests),
            }
            if method == SEARCH:
                results[kind]["mean_matches"] = mean_matches(platform, [r["query"] for r in requests])
    finally:
        platform.stop_gateway(gateway)
    return results


def mean_matches(platform: BenchPlatform, queries: Sequence[str], sample: int = 20) -> float:
    """How many games a query of this kind matches, on average over a sample of them."""
    picked = queries[:: max(1, len(queries) // sample)][:sample]
    count = "SELECT count(*) FROM catalog.games WHERE catalog.search_key(display_name) LIKE %s"
    with psycopg.connect(platform.database_url) as conn:
        counts = [conn.execute(count, (f"%{q}%",)).fetchone() for q in picked]
    return statistics.fmean(int(c[0]) if c else 0 for c in counts)


def scale_out(platform: BenchPlatform, settings: ReadSettings) -> dict[str, Any]:
    """Hot GetGame over one and two gateway processes, and the floor over one and two processes."""
    load = settings.throughput
    gets = [{"name": f"games/{i}"} for i in range(1, HOT_KEYS + 1)]
    first = platform.service("gateway")
    second = platform.start_gateway()
    try:
        one = gateway_run(platform, GET, gets, [first], load)
        two = gateway_run(platform, GET, gets, [first, second], load)
    finally:
        platform.stop_gateway(second)
    return {
        "gateway_1": one.as_dict(),
        "gateway_2": two.as_dict(),
        "floor_1": floor_run(platform, 1, load).as_dict(),
        "floor_2": floor_run(platform, 2, load).as_dict(),
    }
