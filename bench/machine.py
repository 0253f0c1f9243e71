"""What the benchmarks ran on: CPU, cores, memory, versions, and how busy the machine was."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import grpc
import psutil
import psycopg

from bench.loadgen import k6_binary


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe(database_url: str | None = None) -> dict[str, Any]:
    """The machine and the software versions, plus the load average now."""
    k6 = subprocess.run([k6_binary(), "version"], capture_output=True, text=True, check=False).stdout
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "k6": k6.split("(")[0].strip(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    if database_url:
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        info["postgresql"] = row[0] if row else "unknown"
    return info


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages now (others' work on a shared machine shows here)."""
    return [round(x, 2) for x in os.getloadavg()]
