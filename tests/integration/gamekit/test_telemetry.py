"""Traces cross gRPC hops with W3C context and show up in log lines; a missing collector is harmless."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(*args, **env):
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.gamekit.telemetry_child", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def test_trace_context_crosses_the_call_and_reaches_logs(tmp_path):
    result = _run("propagation", str(tmp_path), OTEL_SDK_DISABLED="false")
    trace_id = result["caller_trace"]
    kinds = {(span["name"], span["kind"]) for span in result["spans"] if span["trace_id"] == trace_id}
    method = "/games.catalog.v1.CatalogService/GetGame"
    assert {(method, "CLIENT"), (method, "SERVER")} <= kinds
    access = next(line for line in result["logs"] if line["logger"] == "gamekit.access")
    assert access["trace_id"] == trace_id
    assert len(access["span_id"]) == 16
    assert access["code"] == "OK"
    assert any(f'trace_id="{trace_id}"' in line for line in result["exemplars"])


def test_unreachable_collector_neither_fails_nor_hangs():
    assert (
        _run("unreachable", OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_EXPORTER_OTLP_TIMEOUT="1")
        == "ok"
    )
