"""`python -m gateway serve`: the gateway, as one process or as a supervisor of GATEWAY_PROCESSES.

`python -m gateway worker` is one of those processes, started by the supervisor (gamekit.serving.workers).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from gamekit.observability import telemetry
from gamekit.observability.logs import configure_logging
from gamekit.observability.metrics_fanin import WORKER_METRICS_HOST
from gamekit.serving.host import serve
from gamekit.serving.workers import Supervisor, report_started
from gamekit.settings import load_settings
from gateway.app import build_gateway
from gateway.callers.keys import KeyFileError, KeyStore
from gateway.settings import GatewaySettings


def main(argv: list[str] | None = None) -> int:
    """Run `serve` (or `worker`): authenticate, limit, cache and forward callers' calls until SIGTERM."""
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__)
    parser.add_argument("command", choices=["serve", "worker"])
    command = parser.parse_args(argv).command
    settings = load_settings(GatewaySettings)
    configure_logging("gateway", settings.log_level)
    if command == "serve" and settings.processes > 1:
        return _supervise(settings)
    # Before the backend channels exist: the gRPC client instrumentation wraps channel creation.
    telemetry.configure_telemetry("gateway")
    try:
        app = build_gateway(settings)
    except KeyFileError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 2
    if command == "worker":
        worker = replace(app.host_options, reuse_port=True, metrics_host=WORKER_METRICS_HOST)
        return serve(settings, app.bindings, app.policy, app.ready, worker, on_started=report_started)
    return serve(settings, app.bindings, app.policy, app.ready, app.host_options)


def _supervise(settings: GatewaySettings) -> int:
    """Check what every worker would refuse at start once, here, then run the workers."""
    try:
        KeyStore(settings.api_keys_file)
        supervisor = Supervisor(
            [sys.executable, "-m", "gateway", "worker"],
            settings.processes,
            host=settings.host,
            ports={"GATEWAY_PORT": settings.port, "GATEWAY_HEALTH_PORT": settings.health_port},
            metrics=(settings.host, settings.metrics_port),
            metrics_env="GATEWAY_METRICS_PORT",
            grace_seconds=settings.grace_period_seconds,
        )
    except (KeyFileError, OSError) as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 2
    return supervisor.run()


if __name__ == "__main__":
    raise SystemExit(main())
