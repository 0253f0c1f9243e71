"""`python -m gateway serve`: the gateway process."""

from __future__ import annotations

import argparse
import sys

from gamekit import telemetry
from gamekit.logs import configure_logging
from gamekit.server import serve
from gamekit.settings import load_settings
from gateway.app import build_gateway
from gateway.keys import KeyFileError
from gateway.settings import GatewaySettings


def main(argv: list[str] | None = None) -> int:
    """Run `serve`: authenticate, limit, cache and forward callers' calls until SIGTERM."""
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__)
    parser.add_argument("command", choices=["serve"])
    parser.parse_args(argv)
    settings = load_settings(GatewaySettings)
    configure_logging("gateway", settings.log_level)
    # Before the backend channels exist: the gRPC client instrumentation wraps channel creation.
    telemetry.configure_telemetry("gateway")
    try:
        app = build_gateway(settings)
    except KeyFileError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 2
    return serve(settings, app.bindings, app.policy, app.ready, **app.host_options)


if __name__ == "__main__":
    raise SystemExit(main())
