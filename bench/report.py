"""Results to a table: each figure beside its floor, the ratio, the target and whether it is met.

`rows(results)` derives the table from the raw results of a run (so the JSON keeps everything and the
table is only a view); `markdown(results)` renders the table, the latencies, the tuning decisions,
the machine and the unmet targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench import production
from bench.findings import holding_back

KIND_LABEL = {"name": "a game's brand", "prefix": "a brand's first syllables", "word": "a common word"}


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    scenario: str
    figure: str
    measured: str
    floor: str
    ratio: str
    target: str
    met: bool | None  # None: informational, no target

    @property
    def verdict(self) -> str:
        return "—" if self.met is None else ("yes" if self.met else "**no**")


def _rps(figures: dict[str, Any]) -> str:
    return f"{figures['rps']:,.0f} req/s"


def _hot(results: dict[str, Any]) -> list[Row]:
    hot = results["hot_reads"]
    floor = hot["floor"]
    out = []
    for key, label in (("search", "SearchGames"), ("get", "GetGame")):
        ratio = hot[key]["rps"] / floor["rps"]
        out.append(
            Row(
                "hot reads",
                f"{label}, cached, through the gateway",
                _rps(hot[key]),
                f"health Check, bare grpcio: {_rps(floor)}",
                f"{ratio:.2f}x",
                "≥ 0.8x",
                ratio >= 0.8,
            )
        )
    return out


def _search(results: dict[str, Any]) -> list[Row]:
    runs = results["uncached_search"]
    out = []
    for kind in ("name", "prefix", "word"):
        gateway, catalog = runs[kind]["gateway"], runs[kind]["catalog"]
        out.append(
            Row(
                "uncached search",
                f"SearchGames by {KIND_LABEL[kind]} ({runs[kind]['mean_matches']:,.0f} matches), p95 e2e",
                f"{gateway['p95']:.1f} ms",
                f"in the catalog: {catalog['p95']:.1f} ms",
                "",
                "≤ 15 ms",
                gateway["p95"] <= 15,
            )
        )
    for kind, label in (("get", "GetGame by id"), ("name", f"SearchGames by {KIND_LABEL['name']}")):
        gateway, catalog = runs[kind]["gateway"], runs[kind]["catalog"]
        added = gateway["p50"] - catalog["p50"]
        out.append(
            Row(
                "gateway overhead",
                f"added at p50, {label}",
                f"{added:+.2f} ms",
                f"catalog p50 {catalog['p50']:.2f} ms",
                "",
                "≤ 0.5 ms",
                added <= 0.5,
            )
        )
    return out


def _ingestion(results: dict[str, Any]) -> list[Row]:
    ing = results["ingestion"]
    file, run, floors = ing["file"], ing["ingestion"], ing["floors"]
    records_per_s = file["records"] / run["seconds"]
    # The two floors are the COPY and orjson on the whole file; the target is against the slower.
    slower = max(("copy", "parse_whole"), key=lambda k: floors[k]["seconds"])
    out = [
        Row(
            "ingestion",
            f"{file['records']:,} records ({file['bytes'] / 1e9:.2f} GB), S3 to published",
            f"{file['bytes'] / run['seconds'] / 1e6:.1f} MB/s",
            "",
            "",
            "",
            None,
        )
    ]
    for key, label in (
        ("copy", "raw COPY"),
        ("parse_whole", "orjson, whole file"),
        ("parse_streamed", "orjson, streamed"),
    ):
        ratio = floors[key]["seconds"] / run["seconds"]
        if key == slower:
            target, met = "≥ 0.5x (the slower floor)", ratio >= 0.5
        elif key == "parse_streamed":
            target, met = "≥ 0.5x (stricter parse floor)", ratio >= 0.5
        else:
            target, met = "", None
        out.append(
            Row(
                "ingestion",
                "records/s end to end",
                f"{records_per_s:,.0f} rec/s",
                f"{label}: {file['records'] / floors[key]['seconds']:,.0f} rec/s",
                f"{ratio:.2f}x",
                target,
                met,
            )
        )
    rss = run["peak_rss_mib"]
    out.append(Row("ingestion", "peak RSS of run-once", f"{rss:.0f} MiB", "", "", "≤ 300 MiB", rss <= 300))
    return out


def _hostile(results: dict[str, Any]) -> list[Row]:
    out = []
    for run in results["hostile_files"]:
        rss = run["peak_rss_mib"]
        outcome = f"{run['state']}: {run['reason'][:60]}" if run["reason"] else run["state"]
        out.append(
            Row(
                "hostile files",
                f"peak RSS of run-once, {run['name']} ({run['file_bytes'] / 2**20:,.1f} MiB file)",
                f"{rss:.0f} MiB in {run['seconds']:.1f} s; {outcome}",
                "",
                "",
                "≤ 256 MiB",
                rss <= 256,
            )
        )
    return out


def _scale(results: dict[str, Any]) -> list[Row]:
    scale = results["scale_out"]
    gateway = scale["gateway_2"]["rps"] / scale["gateway_1"]["rps"]
    floor = scale["floor_2"]["rps"] / scale["floor_1"]["rps"]
    against_floor = scale["gateway_2"]["rps"] / scale["floor_1"]["rps"]
    return [
        Row(
            "hot reads, process per core",
            "GetGame cached, 2 gateway processes",
            _rps(scale["gateway_2"]),
            f"health Check, bare grpcio, 1 process: {_rps(scale['floor_1'])}",
            f"{against_floor:.2f}x",
            "≥ 0.8x",
            against_floor >= 0.8,
        ),
        Row(
            "scale-out",
            "GetGame cached, 2 gateway processes vs 1",
            f"{_rps(scale['gateway_2'])} vs {_rps(scale['gateway_1'])} ({gateway:.2f}x)",
            f"floor 2 vs 1 process: {floor:.2f}x",
            "",
            "follows cores (2 cores, k6 on one)",
            None,
        ),
    ]


def rows(results: dict[str, Any]) -> list[Row]:
    """The table of a run (scenarios that did not run are left out)."""
    out: list[Row] = []
    for key, build in (
        ("hot_reads", _hot),
        ("uncached_search", _search),
        ("ingestion", _ingestion),
        ("hostile_files", _hostile),
        ("scale_out", _scale),
    ):
        if key in results:
            out += build(results)
    return out


def table(found: list[Row]) -> str:
    """The rows as a markdown table."""
    lines = [
        "| scenario | figure | measured | floor | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.scenario} | {r.figure} | {r.measured} | {r.floor} | {r.ratio} | {r.target} | {r.verdict} |"
        for r in found
    ]
    return "\n".join(lines)


def _latency_lines(results: dict[str, Any]) -> list[str]:
    runs: list[tuple[str, dict[str, Any]]] = []
    if "hot_reads" in results:
        hot = results["hot_reads"]
        runs += [("hot: health Check, floor", hot["floor"]), ("hot: SearchGames via gateway", hot["search"])]
        runs += [("hot: GetGame via gateway", hot["get"])]
        if "floor_aio" in hot:
            runs += [("hot: health Check, floor on grpc.aio", hot["floor_aio"])]
    for kind, pair in results.get("uncached_search", {}).items():
        runs += [
            (f"uncached {kind}: catalog", pair["catalog"]),
            (f"uncached {kind}: gateway", pair["gateway"]),
        ]
    prod = results.get("production", {})
    for key, figures in prod.get("hot_reads", {}).items():
        if isinstance(figures, dict):
            runs.append((f"production hot: {key}", figures))
    processes = prod.get("settings", {}).get("processes")
    for key, figures in prod.get("hot_reads_processes", {}).items():
        if isinstance(figures, dict):
            runs.append((f"production hot, {processes} gateway processes: {key}", figures))
    for key, pair in prod.get("uncached", {}).items():
        if "catalog" in pair:
            runs += [(f"production {key}: {side}", pair[side]) for side in ("catalog", "gateway")]
    for key, figures in results.get("scale_out", {}).items():
        runs.append((f"scale-out: {key.replace('_', ' x ')}", figures))
    for label, figures in results.get("tuning_runs", {}).items():
        runs.append((f"tuning: {label}", figures))
    lines = [
        "| run | VUs | req/s | p50 ms | p95 ms | p99 ms | failures | server CPU ms/call |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, f in runs:
        cpu = f.get("server_cpu_ms_per_call")
        lines.append(
            f"| {label} | {f['vus']} | {f['rps']:,.0f} | {f['p50']:.2f} | {f['p95']:.2f} | {f['p99']:.2f} "
            f"| {f['failures']} | {'' if cpu is None else f'{cpu:.3f}'} |"
        )
    return lines


def machine_line(machine: dict[str, Any]) -> str:
    """One line naming the machine and the versions."""
    return (
        f"{machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM, {machine['os']}; "
        f"Python {machine['python']}, grpcio {machine['grpcio']}, PostgreSQL {machine.get('postgresql', '?')}"
        f" (embedded, fsync off), {machine['k6']}; load average {machine['load_average_at_start']} at start,"
        f" {machine.get('load_average_at_end', '?')} at the end"
    )


def markdown(results: dict[str, Any]) -> str:
    """The whole report of a run."""
    found = rows(results)
    settings = results["settings"]
    lines = [
        f"# Benchmarks, {results['date']}",
        "",
        f"Machine: {machine_line(results['machine'])}.",
        "",
        f"Run: `{settings['command']}`, {results['wall_seconds'] / 60:.1f} min; catalog of "
        f"{settings['games']:,} games (loaded in {results.get('catalog_load', {}).get('seconds', 0):.0f} s); "
        f"delivery of {settings['records']:,} records.",
        "",
        table(found),
        *production.table(results),
        "",
        "## Every k6 run",
        "",
        *_latency_lines(results),
    ]
    if results.get("tuning"):
        lines += ["", "## Tuning decisions", ""]
        lines += [f"- **{t['decision']}**: {t['measurement']}" for t in results["tuning"]]
    unmet = [r for r in found if r.met is False]
    lines += ["", "## Targets not met, and what holds them back", ""]
    missed = [f"- {r.scenario}: {r.figure}: {r.measured} (target {r.target})" for r in unmet]
    missed += production.missed(results)
    lines += missed or ["None."]
    for paragraph in [*holding_back(results, {r.scenario for r in unmet}), *production.findings(results)]:
        lines += ["", paragraph]
    return "\n".join(lines) + "\n"
