"""The service's last-success gauge shows runs other processes recorded, as the CronJob's are."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gamekit.paging.tokens import PageTokens
from gamekit.serving.host import ServiceHost
from ingestion import metrics
from ingestion.app import page_budget
from ingestion.ledger.database import make_engine
from ingestion.ledger.store import Ledger
from ingestion.model import FileCounts, RecordCounts, RunState, RunTrigger
from tests.fixtures.eventually import eventually
from tests.fixtures.scraped import sample, scrape

GAUGE = "ingestion_last_success_timestamp_seconds"


def scraped_last_success(port: int) -> float:
    return sample(scrape(port), GAUGE)


def test_a_success_recorded_by_another_process_shows_in_a_scrape(
    start_ingestion_service: Callable[..., ServiceHost],
    platform_database_url: str,
    bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(metrics, "LEDGER_READ_SECONDS", 0.1)
    # No run goes through this service, so it never needs the catalog.
    host = start_ingestion_service(bucket=bucket, catalog_target="127.0.0.1:9")
    scraped_last_success(host.metrics_port)  # the service has read the ledger once before the run

    # The CronJob: its own process, its own engine, writing to the same ledger.
    engine = make_engine(platform_database_url)
    try:
        cron = Ledger(
            engine=engine,
            page_tokens=PageTokens(b"cronjob-page-token-key-012345678"),
            page_budget=page_budget(),
        )
        with cron.running(RunTrigger.SCHEDULE) as run:
            ended = cron.end_run(run.id, files=FileCounts(imported=1), records=RecordCounts(imported=3))
    finally:
        engine.dispose()
    assert ended.state is RunState.SUCCEEDED
    assert ended.end_time is not None

    end = ended.end_time.timestamp()
    seen: list[float] = []

    def shown() -> bool:
        seen.append(scraped_last_success(host.metrics_port))
        return seen[-1] == end

    eventually(shown, timeout=10, what=lambda: f"the scrape showing {end}; it still says {seen[-1]}")
