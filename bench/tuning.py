"""Tuning decisions and their measurements.

`compare` measures in the run what can be switched by a setting: the cost of the gateway's access log
(the services log every call at INFO by default; the benchmarks run them at WARNING). `DECISIONS` are
the decisions that needed code or another build to compare, with what was measured on this machine
when they were made (before and after, same data, same session).
"""

from __future__ import annotations

from typing import Any

from bench.games import Queries
from bench.platform import BenchPlatform
from bench.reads import GET, HOT_KEYS, ReadSettings, gateway_run

DECISIONS: tuple[dict[str, str], ...] = (
    {
        "decision": "k6 discards response messages (`discardResponseMessage`)",
        "measurement": "decoding each 38-game SearchGames answer into JavaScript objects took a whole core"
        " in k6 and capped the cached search at 505 req/s; discarded, the same gateway answered"
        " 1,208 req/s (2026-11-23). Kept: the load generator must not be what is measured.",
    },
    {
        "decision": "catalog search ranks (id, key) pairs from a materialized CTE, then fetches the page",
        "measurement": "unaccent() ran in every CASE branch of the flattened subquery and every column of"
        " every match was read; now each key is computed once and only the page's rows are fetched."
        " On 1M games, best of 9 (3 for broad queries), same results and pages: brand 3.0 -> 2.6 ms,"
        " prefix (2,221 matches) 19.5 -> 12.2 ms, common word (90,910 matches) 557 -> 351 ms"
        " (2026-11-23, commit 97dfbd6). Kept.",
    },
    {
        "decision": "ingestion's ImportGames batch size (INGESTION_IMPORT_BATCH_SIZE) left at 500",
        "measurement": "100k records, twice each: 500 -> 10.0 and 10.4 s, 2000 -> 10.3 and 10.4 s; the"
        " ingestion process spends 7.7 s of CPU either way and the catalog 2.4 s: per-record Python in"
        " ingestion, not messages or COPY calls, sets the pace (2026-11-23).",
    },
    {
        "decision": "the gateway passes answers through as the catalog's bytes and does less per call",
        "measurement": "answers are no longer decoded and encoded again (31.9 µs for a 12 KB, 38-game"
        " SearchGames answer; 10.4 µs to encode a cached one), the peer's certificate is read once per"
        " call instead of twice, metric children are looked up once per method, the request id costs"
        " 1.4 µs instead of 4.3 µs. Profiled (py-spy, GIL samples) these were about a tenth of the"
        " gateway's time; in k6, the change against the commit before it, interleaved twice, 20k games,"
        " 20 s runs: cached SearchGames 1,260 and 1,240 -> 1,311 and 1,148 req/s, GetGame 1,151 and"
        " 1,178 -> 1,123 and 1,165 req/s: within this shared machine's noise (2026-11-30). Kept: less"
        " work per call and simpler code (one table-driven proxy instead of a method per RPC).",
    },
    {
        "decision": "one interceptor, handlers wrapped once per method, the access log written off the call",
        "measurement": "issue 13: the gateway's per-call Python (the platform interceptor, the gateway's"
        " key check, the cache hit, the INFO access line; in-process, process CPU including the log"
        " writer's thread, min of 5 x 5,000 calls, interleaved twice): 175-186 -> 118-123 µs a call for"
        " cached GetGame and SearchGames; with OpenTelemetry's server interceptor on (as `make up` runs),"
        " 329-336 -> 272-277 µs: OpenTelemetry's gRPC server interceptor alone cost ~155 µs a call (118 µs"
        " even for an unsampled span); with the server span opened by the platform interceptor instead"
        " (gamekit.serving.spans), 316-320 -> 218-221 µs. Through k6 (16 VUs, INFO, telemetry on,"
        " interleaved twice) the machine's other work hid much of it; see bench.production. Kept.",
    },
    {
        "decision": "answers under 1 KiB go uncompressed to callers that accept gzip",
        "measurement": "zlib sets up ~256 KB of state per message: 56 µs for a 300-byte answer, 123 µs"
        " for 13 KB on this machine (Python's zlib, the same library grpc's core calls). A cached answer"
        " cannot be kept already compressed: grpcio's server sets each message's flags itself and offers"
        " no way to send compressed bytes as they are (2026-12-05).",
    },
    {
        "decision": "k6 loads the contract's protos instead of asking the gateway by reflection",
        "measurement": "the services allow one peer 4 reflection streams at once, so of 16 VUs connecting"
        " together most saw their connect refused and then spun without calling (142,851 iterations for"
        " 7,983 calls): every gateway figure before 2026-12-05's second run measured a few VUs. Same"
        " gateway, same run, 16 VUs, cached GetGame: 798 -> 1,174 req/s at production settings, 971 ->"
        " 1,820 at WARNING with telemetry off. A VU whose connect fails now retries and fails the run"
        " (2026-12-05).",
    },
    {
        "decision": "gateway response compression left on",
        "measurement": "a gateway built without it (same run, same data): cached SearchGames of 38 games"
        " (~13 KB) 1,370 -> 1,523 req/s, 0.71 -> 0.60 ms of gateway CPU per call; GetGame (one game)"
        " unchanged at 0.58 ms. Left on: compression is part of the gateway's contract and saves"
        " bandwidth across zones; compressing only answers above a few KB would be the change to make"
        " (2026-11-23).",
    },
)


def compare(
    platform: BenchPlatform, settings: ReadSettings, queries: Queries
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """(k6 runs by label, every decision with its measurement, this run's first)."""
    gets = [{"name": f"games/{i}"} for i in range(1, HOT_KEYS + 1)]
    runs: dict[str, Any] = {}
    for level in ("WARNING", "INFO"):
        gateway = platform.start_gateway({"GATEWAY_LOG_LEVEL": level}, quiet=True)
        try:
            runs[f"GetGame cached, log level {level}"] = gateway_run(
                platform, GET, gets, [gateway], settings.throughput
            ).as_dict()
        finally:
            platform.stop_gateway(gateway)
    quiet, logged = runs["GetGame cached, log level WARNING"], runs["GetGame cached, log level INFO"]
    access_log = {
        "decision": "benchmarks run the services at WARNING (no access log); production logs at INFO",
        "measurement": f"this run, cached GetGame through a gateway logging every call at INFO:"
        f" {logged['rps']:,.0f} req/s and {logged['server_cpu_ms_per_call']:.3f} ms CPU per call, against"
        f" {quiet['rps']:,.0f} req/s and {quiet['server_cpu_ms_per_call']:.3f} ms at WARNING.",
    }
    return runs, [access_log, *DECISIONS]
