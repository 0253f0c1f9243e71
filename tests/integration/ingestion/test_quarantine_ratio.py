"""The quarantined share of each delivered file, from the ledger to the `serve` process's scrape.

Real PostgreSQL, real moto S3, the real catalog, `ingestion run-once` as the CronJob runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Engine, func

from gamectl.localpg import LocalPostgres
from gamekit.paging.tokens import PageTokens
from gamekit.serving.host import ServiceHost
from ingestion import metrics
from ingestion.app import page_budget
from ingestion.ledger.database import make_engine
from ingestion.ledger.migrate import upgrade
from ingestion.ledger.store import Ledger
from ingestion.ledger.tables import files
from ingestion.metrics import QuarantineRatios
from ingestion.model import RecordCounts, RunTrigger, SourceObject
from tests.factories.deliveries import app, delivery
from tests.fixtures.catalog import RunningCatalog
from tests.fixtures.scraped import Samples, parse, scrape
from tests.integration.ingestion.conftest import Put
from tests.integration.ingestion.run_once import run_once

GAUGE = "ingestion_file_quarantine_ratio"


def shares(samples: Samples) -> dict[str, float]:
    """File name -> quarantined share, as a scrape reads them."""
    return {dict(labels)["file"]: value for (name, labels), value in samples.items() if name == GAUGE}


def ledger_on(engine: Engine) -> Ledger:
    return Ledger(engine=engine, page_tokens=PageTokens(b"k" * 32), page_budget=page_budget())


def finish(
    ledger: Ledger, run_id: int, key: str, etag: str, records: RecordCounts, *, rejected: bool = False
) -> int:
    """One file version claimed and ended as a run ends it; its ledger id."""
    source = SourceObject(bucket="deliveries", key=key, etag=etag, size=10)
    with ledger.claim(source, run_id=run_id) as claim:
        claim.begin_attempt()
        if rejected:
            claim.mark_rejected(reason="too many quarantined", records=records)
        else:
            claim.mark_imported(catalog_import="imports/1", records=records)
    return claim.file_id


def test_the_service_shows_each_files_share_of_the_cronjobs_latest_version(
    start_ingestion_service: Callable[..., ServiceHost],
    catalog: RunningCatalog,
    bucket: str,
    env: dict[str, str],
    put: Put,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(metrics, "LEDGER_READ_SECONDS", 0.0)  # every scrape reads the ledger
    host = start_ingestion_service(bucket=bucket, catalog_target=catalog.target)
    assert shares(scrape(host.metrics_port)) == {}, "no file processed yet: no series"

    # iOS comes under a dated prefix each day; Android overwrites one key (a new ETag each day).
    put("2026-12-04/ios.top100.json", delivery([[app(n)] for n in range(1, 21)]))
    put("android.top100.json", delivery([[app(n, "android")] for n in range(1, 21)]))
    first = run_once(env)
    assert first.returncode == 0, first.stderr
    assert shares(scrape(host.metrics_port)) == {"ios.top100.json": 0.0, "android.top100.json": 0.0}

    # The next day: 1 of 40 iOS records quarantined (published), 2 of 12 Android ones (rejected).
    put("2026-12-05/ios.top100.json", delivery([[app(n)] for n in range(1, 40)] + [[{}]]))
    put("android.top100.json", delivery([[app(n, "android")] for n in range(1, 11)] + [[{}], [{}]]))
    second = run_once(env)
    assert second.returncode == 1, second.stdout
    assert "REJECTED  android.top100.json  2 of 12 records quarantined" in second.stdout

    assert shares(scrape(host.metrics_port)) == {"ios.top100.json": 1 / 40, "android.top100.json": 2 / 12}


@pytest.fixture
def ledger(ledger_engine: Engine) -> Ledger:
    return ledger_on(ledger_engine)


def test_the_ledger_gives_the_newest_finished_version_of_each_name_of_the_last_7_days(
    ledger: Ledger, ledger_engine: Engine
) -> None:
    with ledger.running(RunTrigger.SCHEDULE) as run:
        old = finish(
            ledger, run.id, "2026-12-04/ios.top100.json", "a", RecordCounts(90, quarantined=10), rejected=True
        )
        finish(ledger, run.id, "2026-12-05/ios.top100.json", "b", RecordCounts(98, quarantined=2))
        finish(ledger, run.id, "android.top100.json", "a", RecordCounts(50))
        finish(ledger, run.id, "2026-12-05/broken.json", "a", RecordCounts(), rejected=True)
        legacy = finish(ledger, run.id, "weekly/legacy.json", "a", RecordCounts(10, quarantined=1))
        # Android's next version is still being imported; an operator accepts the old iOS file.
        with ledger.claim(
            SourceObject(bucket="deliveries", key="android.top100.json", etag="b"), run_id=run.id
        ) as claim:
            claim.begin_attempt()
        with ledger.claim(
            SourceObject(bucket="deliveries", key="2026-12-04/ios.top100.json", etag="a"),
            run_id=run.id,
            accepting=True,
        ) as claim:
            claim.begin_attempt()
            accepted = claim.mark_imported(
                catalog_import="imports/2", records=RecordCounts(90, quarantined=10), accepted_by="ops"
            )
    assert accepted.id == old
    with ledger_engine.begin() as conn:
        conn.execute(
            files.update().where(files.c.id == legacy).values(update_time=func.now() - timedelta(days=8))
        )

    assert ledger.newest_file_records() == {
        "ios.top100.json": RecordCounts(98, quarantined=2),
        "android.top100.json": RecordCounts(50),
        "broken.json": RecordCounts(),
    }


@pytest.fixture
def private_ledger(private_postgres: LocalPostgres) -> Iterator[Ledger]:
    """A ledger on a PostgreSQL server of the test's own, which it stops and starts."""
    url = private_postgres.create_database("ledger")
    upgrade(url)
    engine = make_engine(url)
    yield ledger_on(engine)
    engine.dispose()


def test_the_shares_stay_while_the_ledger_database_is_down(
    private_ledger: Ledger, private_postgres: LocalPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    with private_ledger.running(RunTrigger.SCHEDULE) as run:
        finish(private_ledger, run.id, "2026-12-05/ios.top100.json", "a", RecordCounts(97, quarantined=3))
    ratios = QuarantineRatios()
    ratios.follow(private_ledger.newest_file_records, interval=0)
    registry = CollectorRegistry()
    registry.register(ratios)
    assert shares(parse(generate_latest(registry).decode())) == {"ios.top100.json": 0.03}

    private_postgres.stop()
    with caplog.at_level(logging.WARNING, logger="ingestion.metrics"):
        assert shares(parse(generate_latest(registry).decode())) == {"ios.top100.json": 0.03}
    assert "cannot read the files' record counts from the ledger" in caplog.text

    private_postgres.start()
    with private_ledger.running(RunTrigger.SCHEDULE) as run:
        finish(private_ledger, run.id, "2026-12-06/ios.top100.json", "a", RecordCounts(998, quarantined=2))
    assert shares(parse(generate_latest(registry).decode())) == {"ios.top100.json": 0.002}
