"""`python -m bench`: start the platform, load it, run the scenarios, write results and the table.

python -m bench                      # everything, full size (what `make bench` runs)
python -m bench --quick              # a small smoke run (seconds per run, 50k games, 20k records)
python -m bench --only hot --only search --games 200000
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import games, hostile, ingest, machine, production, reads, report, tuning
from bench.calls import direct_channel
from bench.loadgen import Load
from bench.platform import BenchPlatform

SCENARIOS = ("hot", "production", "search", "scale", "ingest", "hostile", "tuning")
RESULTS = Path(__file__).resolve().parent / "results"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs (a smoke test)")
    parser.add_argument("--only", action="append", choices=SCENARIOS, help="run only these (repeatable)")
    parser.add_argument("--games", type=int, help="games in the catalog (default 1,000,000)")
    parser.add_argument("--records", type=int, help="records in the delivery (default 1,000,000)")
    parser.add_argument("--duration", type=float, help="measured seconds of each throughput run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    parser.add_argument("--workdir", type=Path, help="where the platform's files and the delivery go")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; write <out>/<date>.json and .md; print the table."""
    args = _parser().parse_args(argv)
    quick = args.quick
    n_games = args.games or (50_000 if quick else 1_000_000)
    n_records = args.records or (20_000 if quick else 1_000_000)
    duration = args.duration or (5.0 if quick else 15.0)
    settings = reads.ReadSettings(
        throughput=Load(vus=8, duration=duration, warmup=2 if quick else 5),
        latency=Load(vus=1, duration=duration * 0.75, warmup=1 if quick else 3),
    )
    chosen = args.only or list(SCENARIOS)
    started = time.perf_counter()
    today = datetime.date.today().isoformat()
    results: dict[str, Any] = {
        "date": today,
        "settings": {
            "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
            "games": n_games,
            "records": n_records,
            "scenarios": chosen,
            "throughput_load": vars(settings.throughput),
            "latency_load": vars(settings.latency),
        },
    }
    platform = BenchPlatform.start(args.workdir)
    try:
        results["machine"] = machine.describe(platform.database_url)
        if set(chosen) & {"hot", "production", "search", "scale", "tuning"}:
            _say(f"loading {n_games:,} games into the catalog")
            with direct_channel(platform.target("catalog"), platform.tls("ingestion")) as channel:
                loaded = games.load(channel, n_games)
            results["catalog_load"] = {"games": loaded.games, "seconds": loaded.seconds}
        queries = games.queries(n_games)
        if "hot" in chosen:
            _say("hot reads")
            results["hot_reads"] = reads.hot_reads(platform, settings, queries)
        if "production" in chosen:
            _say("production settings: INFO logs, telemetry on, 16 VUs")
            results["production"] = production.scenario(platform, settings, queries)
        if "scale" in chosen:
            _say("scale-out")
            results["scale_out"] = reads.scale_out(platform, settings)
        if "search" in chosen:
            _say("uncached search")
            results["uncached_search"] = reads.uncached_search(platform, settings, queries)
        if "tuning" in chosen:
            _say("tuning comparisons")
            results["tuning_runs"], results["tuning"] = tuning.compare(platform, settings, queries)
        if "ingest" in chosen:
            _say(f"ingestion of {n_records:,} records")
            results["ingestion"] = ingest.scenario(platform, n_records)
        if "hostile" in chosen:
            _say("hostile files")
            results["hostile_files"] = hostile.scenario(platform, quick=quick)
    finally:
        platform.stop()
    results["machine"]["load_average_at_end"] = machine.load_average()
    results["wall_seconds"] = time.perf_counter() - started
    name = f"{today}-quick" if quick else today
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    text = report.markdown(results)
    (args.out / f"{name}.md").write_text(text)
    print(text)
    return 0


def _say(what: str) -> None:
    print(f"bench: {what}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
