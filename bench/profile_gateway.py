"""Where a cached call's time goes in the gateway: py-spy on a production-settings gateway under load.

`python -m bench.profile_gateway OUT.md` starts the bench platform with a small catalog, a gateway
with `make up`'s settings (INFO access log, telemetry on), runs cached GetGame at 16 VUs, and samples
the gateway with py-spy for 12 s: only the thread holding the GIL (`--gil`), since one interpreter runs
one thread at a time and that is what bounds one process. OUT.md gets each part's share of the samples
(inclusive: a function and what it calls); OUT.md's neighbour OUT.txt keeps the raw collapsed stacks.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from bench import games
from bench.calls import direct_channel
from bench.loadgen import Load
from bench.platform import BenchPlatform
from bench.production import production_settings
from bench.reads import GET, gateway_run

PY_SPY = Path(sys.executable).parent / "py-spy"
# (part of a call, the functions whose inclusive samples it is)
PARTS = [
    ("grpcio's server: polling, call set-up, thread hand-off", ["_serve", "_handle_call"]),
    ("the handler thread, in all", ["_unary_response_in_pool"]),
    ("· the platform interceptor, in all", ["_spanned.<locals>.spanned"]),
    ("· · server span (OpenTelemetry)", ["server_span"]),
    ("· · API key and scope check", ["Authenticator.gate"]),
    ("· · rate limit", ["RateLimiter.check"]),
    ("· · cache lookup", ["ResponseCache.lookup"]),
    ("· · access line queued", ["Logger.info"]),
    ("· · latency histogram", ["Histogram.observe"]),
    ("· status and response sent (grpcio)", ["_status"]),
    ("thread pool queue and wake-ups", ["ThreadPoolExecutor.submit", "Condition.notify", "Condition.wait"]),
    ("log writer thread", ["_Writer._run"]),
]


def shares(collapsed: Path) -> tuple[int, dict[str, int]]:
    """Total samples, and per part the samples whose stack holds any of its functions (once each)."""
    counts = dict.fromkeys((label for label, _ in PARTS), 0)
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        functions = {frame.split(" (")[0] for frame in stack.split(";")[1:]}
        for label, names in PARTS:
            if functions.intersection(names):
                counts[label] += samples
    return total, counts


def report(collapsed: Path, figures: dict[str, float]) -> str:
    """The markdown table of each part's share of the GIL samples."""
    total, counts = shares(collapsed)
    lines = [
        "# Gateway profile: cached GetGame, 16 VUs, INFO access log, telemetry on",
        "",
        f"{total} samples of the thread holding the GIL (py-spy --gil, 200 Hz, 12 s); the run:"
        f" {figures['rps']:,.0f} req/s, {figures['server_cpu_ms_per_call']:.2f} ms of gateway CPU per call."
        " A sample counts once in a part when its stack holds any of the part's functions; parts nest.",
        "",
        "| part of a call | share of GIL samples |",
        "|---|---|",
    ]
    lines += [f"| {label} | {counts[label] / total:.1%} |" for label, _ in PARTS]
    return "\n".join(lines) + "\n"


def main(out: Path) -> None:
    """Profile, then write OUT.md and OUT.txt."""
    platform = BenchPlatform.start()
    try:
        with direct_channel(platform.target("catalog"), platform.tls("ingestion")) as channel:
            games.load(channel, 2000)
        gateway = platform.start_gateway(
            production_settings("GATEWAY"), log_file=platform.root / "gateway.log"
        )
        collapsed = out.with_suffix(".txt")
        command = [str(PY_SPY), "record", "--pid", str(gateway.process.pid), "--gil", "--nonblocking"]
        command += ["-d", "12", "-r", "200", "-f", "raw", "-o", str(collapsed)]

        def sample() -> None:
            time.sleep(8)  # past the warm-up
            subprocess.run(command, check=True, capture_output=True)

        sampler = threading.Thread(target=sample)
        sampler.start()
        gets = [{"name": f"games/{i}"} for i in range(1, 101)]
        figures = gateway_run(platform, GET, gets, [gateway], Load(vus=16, duration=25, warmup=3))
        sampler.join()
        out.write_text(report(collapsed, figures.as_dict()))
    finally:
        platform.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
