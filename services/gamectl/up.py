"""`gamectl up`: the local suite in the foreground; Ctrl-C or SIGTERM stops everything and returns 0."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from gamectl.suite import Suite


def run(root: Path) -> int:
    """Run the suite in the foreground until SIGINT or SIGTERM; 0 on a clean stop."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    suite = Suite(root)
    try:
        info = suite.start()
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"gamectl up: {error}", file=sys.stderr)
        suite.stop()
        return 1
    print(_banner(info), flush=True)
    if suite.ingest_once() != 0:
        print(
            "gamectl up: the first ingestion run did not import every file (see its summary)", file=sys.stderr
        )
    exit_code = 0
    while not stop.wait(0.5):
        exited = suite.first_exited()
        if exited is not None:
            print(f"gamectl up: {exited.spec.name} stopped unexpectedly; stopping the suite", file=sys.stderr)
            exit_code = 1
            break
    suite.stop()
    return exit_code


def _banner(info: Mapping[str, Any]) -> str:
    tls = f"-cacert {info['ca']} -cert {info['client_cert']} -key {info['client_key']}"
    reader = info["api_keys"]["reader"]
    search = "games.catalog.v1.CatalogService/SearchGames"
    prometheus = [f"  prometheus http://{info['prometheus']}"] if "prometheus" in info else []
    return "\n".join(
        [
            "games platform is up; .local/suite.json describes it. Ctrl-C stops everything.",
            f"  gateway    {info['gateway']}   (callers: API key + the operator certificate)",
            f"  catalog    {info['catalog']}",
            f"  ingestion  {info['ingestion']}",
            *prometheus,
            "Try:",
            f"  .venv/bin/grpcurl {tls} -H 'authorization: Bearer {reader}' \\",
            f'      -d \'{{"query": "pokemon"}}\' {info["gateway"]} {search}',
            "  .venv/bin/gamectl games search pokemon",
        ]
    )
