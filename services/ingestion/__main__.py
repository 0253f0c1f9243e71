"""`python -m ingestion migrate|run-once|serve`: the Helm hook, the CronJob and the service."""

from __future__ import annotations

import argparse
import logging
import sys

from gamekit.errors import GamesError
from gamekit.observability import telemetry
from gamekit.observability.logs import configure_logging
from gamekit.serving.host import serve
from gamekit.settings import load_settings
from ingestion.app import access_policy, build_ingestion, page_tokens, start_event_consumer
from ingestion.ledger import migrate
from ingestion.model import RunTrigger
from ingestion.runs import summary
from ingestion.settings import IngestionSettings, MigrateSettings, RunSettings

log = logging.getLogger("ingestion")


def main(argv: list[str] | None = None) -> int:
    """Run `migrate` (Alembic upgrade), `run-once` (one run, summary on stdout) or `serve`."""
    parser = argparse.ArgumentParser(prog="ingestion", description=__doc__)
    parser.add_argument("command", choices=["migrate", "run-once", "serve"])
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return run_migrations(load_settings(MigrateSettings))
    if args.command == "run-once":
        return run_once(load_settings(RunSettings))
    return run_service(load_settings(IngestionSettings))


def run_migrations(settings: MigrateSettings) -> int:
    """Upgrade the ledger schema to head; one clear line and exit 1 when the database is unreachable."""
    configure_logging("ingestion", settings.log_level)
    return migrate.MIGRATIONS.upgrade_command(settings.database_url, database="ledger database", log=log)


def run_once(settings: RunSettings) -> int:
    """One scheduled run; exit 0 when every file was imported or skipped, 1 otherwise."""
    # stdout carries the summary alone; the JSON log lines go to stderr.
    configure_logging("ingestion", settings.log_level, stream=sys.stderr)
    telemetry.configure_telemetry("ingestion")
    app = build_ingestion(settings)
    try:
        result = app.runner.run(RunTrigger.SCHEDULE)
    except GamesError as error:
        print(f"ingestion run failed: {error.message}", file=sys.stderr)
        return 1
    finally:
        app.close()
        telemetry.shutdown()
    print(summary.render(result))
    return 0 if result.succeeded else 1


def run_service(settings: IngestionSettings) -> int:
    """Serve IngestionService (and consume S3 events when a queue is set) until SIGTERM."""
    configure_logging("ingestion", settings.log_level)
    telemetry.configure_telemetry("ingestion")
    app = build_ingestion(settings, page_tokens=page_tokens(settings))
    if settings.sqs_queue_url:
        start_event_consumer(app, settings.sqs_queue_url)
    return serve(settings, app.bindings, access_policy(settings), app.ready, app.host_options)


if __name__ == "__main__":
    raise SystemExit(main())
