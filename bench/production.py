"""Production settings: the read scenarios against services run as `make up` runs them, at 16 VUs.

The suite the other scenarios use runs at WARNING with telemetry off, so that they measure the code and
not its logging. Here a catalog and two gateways (one caching, one not) run beside it on the same
database with `make up`'s settings: INFO logging (an access line per call, written to a file under the
platform's root, as a container runtime would take it from a pipe) and OpenTelemetry on without an
exporter (spans made, ids in every log line, nothing sent). Measured, each beside its floor:

- hot reads: cached SearchGames and GetGame through the gateway at 16 VUs against the bare grpcio
  health Check at 16 VUs, in the same run (target ≥ 0.8x); then again through a gateway of
  PROCESSES processes on one port (GATEWAY_PROCESSES, as the chart runs a pod given that many cores),
  against the same one-process floor;
- gateway overhead: uncached GetGame over thousands of games and the brand search, straight to the
  catalog and through the uncaching gateway, by one caller; the difference at p50 (target ≤ 0.5 ms);
- uncached search, first page and page 20 of each kind of query (a game's brand, a brand's first
  syllables, a common word), end to end through the uncaching gateway and in the catalog, by one caller
  (target p95 ≤ 15 ms). Page 20 is reached by following `next_page_token` 19 times per query before the
  run; k6 is given the 20th page's token. A query with fewer pages is left out (and counted).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc

from bench import loadgen
from bench.calls import direct_channel
from bench.findings import cpu_per_call
from bench.games import Queries
from bench.loadgen import Load
from bench.platform import BenchPlatform
from bench.reads import (
    GET,
    OVERHEAD_GETS,
    SEARCH,
    ReadSettings,
    cached_reads,
    gateway_run,
)
from gamectl.suite import RunningService
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from tests.fixtures.servers import HOST

VUS = 16
PAGE = 20
# Gateway processes of the pod measured as the chart runs one given this many cores (gamekit.serving.workers).
PROCESSES = min(2, os.cpu_count() or 1)
# Queries per kind whose page 20 is measured (each costs 19 calls to reach it before the run).
DEEP_QUERIES = 8
# What `make up` runs with and the suite of the other scenarios does not.
PRODUCTION = {"LOG_LEVEL": "INFO"}
TELEMETRY_ON = {"OTEL_SDK_DISABLED": "false"}


def production_settings(prefix: str, **extra: str) -> dict[str, str]:
    """`make up`'s settings for a service with env prefix `prefix` (INFO, telemetry on), plus `extra`."""
    return {**{f"{prefix}_{k}": v for k, v in PRODUCTION.items()}, **TELEMETRY_ON, **extra}


def scenario(platform: BenchPlatform, settings: ReadSettings, queries: Queries) -> dict[str, Any]:
    """Start the production-settings services, run the three measurements, stop them."""
    logs = platform.root / "production-logs"
    logs.mkdir(exist_ok=True)
    started: list[RunningService] = []
    try:
        catalog = platform.start_service(
            "catalog", production_settings("CATALOG"), log_file=logs / "catalog.log"
        )
        started.append(catalog)
        target = {"GATEWAY_CATALOG_TARGET": f"{HOST}:{catalog.port}"}
        cached = platform.start_gateway(
            production_settings("GATEWAY", **target), log_file=logs / "gateway.log"
        )
        started.append(cached)
        uncached = platform.start_gateway(
            production_settings("GATEWAY", GATEWAY_CACHE_MAX_ENTRIES="0", **target),
            log_file=logs / "gateway-uncached.log",
        )
        started.append(uncached)
        load = Load(vus=VUS, duration=settings.throughput.duration, warmup=settings.throughput.warmup)
        results = {
            "settings": {
                "vus": VUS,
                "log_level": "INFO",
                "telemetry": "on, no exporter",
                "page": PAGE,
                "processes": PROCESSES,
            },
            "hot_reads": cached_reads(platform, cached, load, queries),
            "uncached": _uncached(platform, catalog, uncached, settings.latency, queries),
        }
        platform.stop_gateway(started.pop())  # the uncached gateway: its cores go to the pod below
        pod = platform.start_gateway(
            production_settings("GATEWAY", GATEWAY_PROCESSES=str(PROCESSES), **target),
            log_file=logs / "gateway-processes.log",
        )
        started.append(pod)
        results["hot_reads_processes"] = cached_reads(platform, pod, load, queries)
    finally:
        for service in reversed(started):
            platform.stop_gateway(service)
    # Read after the stop: each service writes its last access lines as it exits.
    results["access_log_lines"] = {path.stem: _lines(path) for path in sorted(logs.glob("*.log"))}
    return results


def _uncached(
    platform: BenchPlatform,
    catalog: RunningService,
    gateway: RunningService,
    load: Load,
    queries: Queries,
) -> dict[str, Any]:
    step = max(1, queries.games // OVERHEAD_GETS)
    runs: list[tuple[str, str, list[dict[str, Any]]]] = [
        ("get", GET, [{"name": f"games/{1 + i}"} for i in range(0, queries.games, step)])
    ]
    deep: dict[str, int] = {}
    for kind in ("name", "prefix", "word"):
        asked: Sequence[str] = getattr(queries, kind)
        runs.append((f"{kind}_page_1", SEARCH, [{"query": q} for q in asked]))
        tokens = _page_tokens(platform, catalog, asked[:: max(1, len(asked) // DEEP_QUERIES)][:DEEP_QUERIES])
        deep[kind] = len(tokens)
        if tokens:
            runs.append((f"{kind}_page_{PAGE}", SEARCH, [{"query": q, "page_token": t} for q, t in tokens]))
    results: dict[str, Any] = {"queries_with_page_20": deep}
    for label, method, requests in runs:
        direct = loadgen.run(
            method=method,
            requests=requests,
            targets=[f"{HOST}:{catalog.port}"],
            tls=platform.tls("gateway"),  # the catalog serves reads to the gateway's identity
            load=load,
            watch=[catalog.process.pid],
        )
        through = gateway_run(platform, method, requests, [gateway], load, [catalog.process.pid])
        results[label] = {
            "catalog": direct.as_dict(),
            "gateway": through.as_dict(),
            "requests": len(requests),
        }
    return results


def _page_tokens(
    platform: BenchPlatform, catalog: RunningService, queries: Sequence[str]
) -> list[tuple[str, str]]:
    """(query, the token of its page 20) for each query that has a page 20, asked of `catalog` itself
    (its tokens are signed with its own secret)."""
    found = []
    with direct_channel(f"{HOST}:{catalog.port}", platform.tls("gateway")) as channel:
        stub = pb_grpc.CatalogServiceStub(channel)
        for query in queries:
            token = ""
            for _ in range(PAGE - 1):
                try:
                    page = stub.SearchGames(pb.SearchGamesRequest(query=query, page_token=token), timeout=60)
                except grpc.RpcError:
                    token = ""
                    break
                token = page.next_page_token
                if not token:
                    break
            if token:
                found.append((query, token))
    return found


def _lines(path: Path) -> int:
    with path.open("rb") as file:
        return sum(1 for _ in file)


# The run before issue 13's changes: its figures stand beside this scenario's targets.
BASELINE = Path(__file__).resolve().parent / "results" / "2026-11-30.json"
KINDS = {"name": "a game's brand", "prefix": "a brand's first syllables", "word": "a common word"}


def baseline() -> dict[str, Any]:
    """The results of the run before the change (empty if the file is gone)."""
    return json.loads(BASELINE.read_text()) if BASELINE.exists() else {}


# figure, measured, floor, ratio, target, met, the baseline run's figure
Line = tuple[str, str, str, str, str, bool, str]


def rows(results: dict[str, Any], before: dict[str, Any]) -> list[Line]:
    """(figure, measured, floor, ratio, target, met, the baseline run's figure) for each target."""
    prod = results["production"]
    pod = prod.get("hot_reads_processes")
    processes = prod["settings"].get("processes", 1)
    return [
        *_hot_rows(prod["hot_reads"], before.get("hot_reads")),
        *(_hot_rows(pod, before.get("hot_reads"), f", {processes} gateway processes") if pod else []),
        *_uncached_rows(prod["uncached"], before.get("uncached_search", {})),
    ]


def _hot_rows(hot: dict[str, Any], old_hot: dict[str, Any] | None, pod: str = "") -> list[Line]:
    floor = hot["floor"]
    out = []
    for key, label in (("search", "SearchGames"), ("get", "GetGame")):
        ratio = hot[key]["rps"] / floor["rps"]
        old = ""
        if old_hot:
            old_ratio = old_hot[key]["rps"] / old_hot["floor"]["rps"]
            old = f"{old_ratio:.2f}x ({old_hot['floor']['vus']} VUs, WARNING, telemetry off)"
        measured = f"{hot[key]['rps']:,.0f} req/s"
        floor_text = f"health Check, bare grpcio: {floor['rps']:,.0f} req/s"
        label = f"{label}, cached, through the gateway{pod}, {hot[key]['vus']} VUs"
        out.append((label, measured, floor_text, f"{ratio:.2f}x", "≥ 0.8x", ratio >= 0.8, old))
    return out


def _uncached_rows(runs: dict[str, Any], old_runs: dict[str, Any]) -> list[Line]:
    out = []
    overheads = (("get", "get", "GetGame by id"), ("name_page_1", "name", "SearchGames by a game's brand"))
    for key, old_key, label in overheads:
        added = runs[key]["gateway"]["p50"] - runs[key]["catalog"]["p50"]
        previous = old_runs.get(old_key)
        old = f"{previous['gateway']['p50'] - previous['catalog']['p50']:+.2f} ms" if previous else ""
        catalog = f"catalog p50 {runs[key]['catalog']['p50']:.2f} ms"
        out.append(
            (
                f"gateway overhead at p50, {label}",
                f"{added:+.2f} ms",
                catalog,
                "",
                "≤ 0.5 ms",
                added <= 0.5,
                old,
            )
        )
    for kind, label in KINDS.items():
        for page in (1, PAGE):
            run = runs.get(f"{kind}_page_{page}")
            if run is None:
                continue
            first = old_runs.get(kind) if page == 1 else None
            old = f"{first['gateway']['p95']:.1f} ms" if first else "not measured"
            p95 = run["gateway"]["p95"]
            catalog = f"in the catalog: {run['catalog']['p95']:.1f} ms"
            figure = f"uncached SearchGames by {label}, page {page}, p95 e2e"
            out.append((figure, f"{p95:.1f} ms", catalog, "", "≤ 15 ms", p95 <= 15, old))
    return out


def table(results: dict[str, Any]) -> list[str]:
    """The production-settings targets as markdown lines, each beside the baseline run's figure."""
    if "production" not in results:
        return []
    settings = results["production"]["settings"]
    lines = [
        "",
        f"## Production settings: INFO logs, telemetry {settings['telemetry']}, {settings['vus']} VUs",
        "",
        f"| figure | measured | floor | ratio | target | met | {BASELINE.stem} |",
        "|---|---|---|---|---|---|---|",
    ]
    for figure, measured, floor, ratio, target, met, before in rows(results, baseline()):
        verdict = "yes" if met else "**no**"
        lines.append(f"| {figure} | {measured} | {floor} | {ratio} | {target} | {verdict} | {before} |")
    return lines


def missed(results: dict[str, Any]) -> list[str]:
    """One markdown item per production-settings target not met."""
    if "production" not in results:
        return []
    return [
        f"- production settings: {figure}: {measured} (target {target})"
        for figure, measured, _, _, target, met, _ in rows(results, baseline())
        if not met
    ]


def findings(results: dict[str, Any]) -> list[str]:
    """What the production settings cost the hot reads, with this run's figures."""
    if "production" not in results:
        return []
    prod = results["production"]
    hot = prod["hot_reads"]
    get = hot["get"]
    text = (
        f"**Production settings.** At {hot['floor']['vus']} VUs, INFO logs and telemetry on,"
        f" {cpu_per_call(hot)}. Over the suite at WARNING with telemetry off, each call"
        " also makes a server span (opened by the platform interceptor; OpenTelemetry's SDK span itself"
        " costs ~0.1 ms of Python) and an access line (a log record queued for the writer thread, which"
        " formats and writes it with the others waiting)."
    )
    pod = prod.get("hot_reads_processes")
    if pod:
        gain = pod["get"]["rps"] / get["rps"]
        cores = pod["get"]["rps"] * pod["get"]["server_cpu_ms_per_call"] / 1000
        text += (
            f" A pod of {prod['settings']['processes']} gateway processes on one port answers"
            f" {pod['get']['rps']:,.0f} cached GetGame a second, {gain:.2f}x one process, using"
            f" {cores:.2f} cores of gateway CPU while k6 takes its own share of this machine's cores."
        )
    return [text]
