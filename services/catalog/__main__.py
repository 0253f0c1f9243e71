"""`python -m catalog serve|migrate`: the catalog process and its Helm migration hook."""

from __future__ import annotations

import argparse
import logging

from catalog import migrate
from catalog.app import build_catalog
from catalog.settings import CatalogSettings
from gamekit import telemetry
from gamekit.logs import configure_logging
from gamekit.server import serve
from gamekit.settings import load_settings

log = logging.getLogger("catalog")


def main(argv: list[str] | None = None) -> int:
    """Run `serve` (the gRPC service) or `migrate` (Alembic upgrade to head)."""
    parser = argparse.ArgumentParser(prog="catalog", description=__doc__)
    parser.add_argument("command", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    settings = load_settings(CatalogSettings)
    configure_logging("catalog", settings.log_level)
    if args.command == "migrate":
        migrate.upgrade(settings.database_url)
        log.info("migrations applied")
        return 0
    telemetry.configure_telemetry("catalog")
    app = build_catalog(settings)
    return serve(
        settings,
        app.bindings,
        app.policy,
        app.ready,
        shutdown_hooks=[app.close],
    )


if __name__ == "__main__":
    raise SystemExit(main())
