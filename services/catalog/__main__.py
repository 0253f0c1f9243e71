"""`python -m catalog serve|migrate`: the catalog process and its Helm migration hook."""

from __future__ import annotations

import argparse
import logging

from catalog.app import build_catalog
from catalog.settings import CatalogSettings, MigrateSettings
from catalog.storage import migrate
from gamekit.observability import telemetry
from gamekit.observability.logs import configure_logging
from gamekit.serving.host import serve
from gamekit.settings import load_settings

log = logging.getLogger("catalog")


def main(argv: list[str] | None = None) -> int:
    """Run `serve` (the gRPC service) or `migrate` (Alembic upgrade to head)."""
    parser = argparse.ArgumentParser(prog="catalog", description=__doc__)
    parser.add_argument("command", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return run_migrations(load_settings(MigrateSettings))
    settings = load_settings(CatalogSettings)
    configure_logging("catalog", settings.log_level)
    telemetry.configure_telemetry("catalog")
    app = build_catalog(settings)
    return serve(settings, app.bindings, app.policy, app.ready, app.host_options)


def run_migrations(settings: MigrateSettings) -> int:
    """Upgrade the schema to head; one clear line and exit 1 when the database cannot be reached."""
    configure_logging("catalog", settings.log_level)
    return migrate.MIGRATIONS.upgrade_command(settings.database_url, database="catalog database", log=log)


if __name__ == "__main__":
    raise SystemExit(main())
