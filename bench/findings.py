"""What holds back each target a run did not meet, in words, with that run's own figures."""

from __future__ import annotations

from typing import Any


def cpu_per_call(hot: dict[str, Any]) -> str:
    """The gateway's CPU per cached read beside the bare server's, as a run of hot reads measured it."""
    floor, get, search = hot["floor"], hot["get"], hot["search"]
    return (
        f"the gateway spends {get['server_cpu_ms_per_call']:.2f} ms of CPU on a cached GetGame and"
        f" {search['server_cpu_ms_per_call']:.2f} ms on a cached SearchGames, the bare server"
        f" {floor['server_cpu_ms_per_call']:.2f} ms"
    )


def _hot(results: dict[str, Any]) -> str:
    hot = results["hot_reads"]
    floor = hot["floor"]
    text = (
        f"**Hot reads.** Per call {cpu_per_call(hot)}; each gets about one core (k6 takes the"
        " other), so throughput follows CPU per call. The floor's cost is gRPC's Python server itself"
        " (its per-call bookkeeping in Python, whichever server model) and TLS. On top the gateway runs"
        " one interceptor (request id, deadline, metrics, access policy, then the gateway's gate: the API"
        " key's SHA-256 and lookup, the GCRA limiter, scopes), the cache lookup (a deterministic"
        " serialization of the request), and gzips cached answers of 1 KiB or more, kept as the catalog's"
        " bytes (grpcio's server cannot send a message already compressed: it sets the message flags"
        " itself). The access line of each call is only queued on the call's thread; a background"
        " thread formats and writes the lines in batches."
    )
    aio = hot.get("floor_aio")
    if aio:
        gain = aio["rps"] / floor["rps"]
        text += (
            f" The same floor on grpc.aio, in this run: {aio['rps']:,.0f} req/s and"
            f" {aio['server_cpu_ms_per_call']:.2f} ms of CPU per call ({gain:.2f}x the thread-pool floor)"
        )
        text += (
            ": moving the gateway to grpc.aio would not close the gap by itself."
            if gain < 1.2
            else ": moving the gateway to grpc.aio is the first thing to try."
        )
    text += (
        " What would close it: a process per core where cores are free, or a server whose per-call"
        " bookkeeping is not Python's"
    )
    scale = results.get("scale_out")
    if scale:
        against = scale["gateway_2"]["rps"] / scale["floor_1"]["rps"]
        text += f" (two gateway processes reach {against:.2f}x of the one-process floor)"
    return text + "."


def _search(results: dict[str, Any]) -> str:
    runs = results["uncached_search"]
    slow = [k for k in ("name", "prefix", "word") if runs[k]["gateway"]["p95"] > 15]
    if not slow:
        return ""
    parts = ", ".join(
        f"{k} ({runs[k]['mean_matches']:,.0f} matches: {runs[k]['catalog']['p50']:.1f} ms at p50 in catalog)"
        for k in ("name", "prefix", "word")
    )
    cpu = ", ".join(
        f"{k} {runs[k]['catalog']['server_cpu_ms_per_call']:.1f} ms" for k in ("name", "prefix", "word")
    )
    return (
        "**Uncached search.** Search reads each tier from an index in its own order (names starting with"
        " the query, then a later word, then similar names), so a page's time no longer follows the"
        f" number of matches: {parts}. A page of 50 (the default size) costs the catalog process {cpu} of"
        " CPU (each game's proto is built once per page). A brand has 37 names starting with it, so its"
        " first page of 50 reaches the similar tier: a trigram KNN over the vocabulary of name words (~9 ms"
        " at 27k words made of 30 syllables, where every trigram is common) and up to 1,000 candidates"
        " scored. What would: a smaller page for callers that show 20 (a brand's first page of 20 never"
        " reaches the similar tier), and a vocabulary search that reads fewer trigram lists (a GIN index"
        " and a similarity floor measured 5.6 against 7.8 ms)."
    )


def _overhead(results: dict[str, Any]) -> str:
    runs = results["uncached_search"]
    added = {k: runs[k]["gateway"]["p50"] - runs[k]["catalog"]["p50"] for k in ("get", "name")}
    if all(v <= 0.5 for v in added.values()):
        return ""
    return (
        f"**Gateway overhead.** {added['get']:+.2f} ms at p50 on GetGame, {added['name']:+.2f} ms on a"
        " brand search: a second TLS hop, the gateway's interceptor, forwarding through grpcio's Python"
        " client channel with its interceptor (its own round trip to the catalog costs about what k6's"
        " does), and gzipping answers of 1 KiB or more, passed on as the catalog's bytes. Profiled at one"
        " call at a time, the gateway's handler thread spends ~90% of an uncached call waiting on that"
        " client call. Measured by one caller, one call at a time; the machine's other work shows in both."
    )


def _ingestion(results: dict[str, Any]) -> str:
    ing = results["ingestion"]
    file, run, floors = ing["file"], ing["ingestion"], ing["floors"]
    n = file["records"]
    return (
        f"**Ingestion.** One Python thread spends {1e6 * run['ingestion_cpu_seconds'] / n:.0f} µs of CPU per"
        f" record in ingestion (the catalog {1e6 * run['catalog_cpu_seconds'] / n:.0f} µs): ijson building"
        " each record's ~50 fields (the unused 100-country list included), checks and repairs of every"
        " field the catalog keeps, the protobuf and the stream. The floors are C:"
        f" {1e6 * floors['copy']['seconds'] / n:.1f} µs a record for COPY,"
        f" {1e6 * floors['parse_streamed']['seconds'] / n:.1f} µs for streamed orjson and"
        f" {1e6 * floors['parse_whole']['seconds'] / n:.1f} µs for orjson on the whole file (which spends"
        " its time allocating several GB of objects). What would: parsing and checking in several"
        " processes (rank groups split by byte range) feeding one import stream; this 2-core machine,"
        " where the catalog and PostgreSQL need the other core, could not show its gain. Peak RSS stays"
        f" flat ({run['peak_rss_mib']:.0f} MiB for {file['bytes'] / 1e9:.1f} GB)."
    )


def holding_back(results: dict[str, Any], unmet_scenarios: set[str]) -> list[str]:
    """One paragraph per scenario with an unmet target."""
    if "hot reads, process per core" in unmet_scenarios:
        unmet_scenarios = unmet_scenarios | {"hot reads"}
    builders = {
        "hot reads": _hot,
        "uncached search": _search,
        "gateway overhead": _overhead,
        "ingestion": _ingestion,
    }
    paragraphs = [builders[s](results) for s in builders if s in unmet_scenarios]
    return [p for p in paragraphs if p]
