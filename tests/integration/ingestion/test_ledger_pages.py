"""Every ledger listing pages by bytes as well as by count, on real PostgreSQL.

A ledger with a budget of a few kB (the production one is 4 MiB less headroom) stops ListRuns, ListFiles
and ListQuarantinedRecords pages before their items pass it; every item is read once across the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from gamekit.paging.pages import HEADROOM_BYTES, PageBudget
from gamekit.paging.tokens import PageTokens
from ingestion.ledger.store import Ledger
from ingestion.model import FileCounts, Page, RecordCounts, RetryPolicy, RunTrigger, SourceObject
from ingestion.transport import converters

BUDGET = 4000


@pytest.fixture
def ledger(ledger_engine: Engine) -> Ledger:
    budget = PageBudget(converters.wire_size, max_message_bytes=HEADROOM_BYTES + BUDGET)
    return Ledger(engine=ledger_engine, page_tokens=PageTokens(b"k" * 32), page_budget=budget)


def read_all(list_page: Callable[..., Page[Any]]) -> tuple[list[Any], int]:
    items: list[Any] = []
    token, pages = "", 0
    while True:
        page = list_page(page_size=1000, page_token=token)
        assert sum(converters.wire_size(item) for item in page.items) <= BUDGET or len(page.items) == 1
        items += page.items
        pages += 1
        token = page.next_page_token
        if not token:
            return items, pages


def test_runs_files_and_records_are_each_read_once_in_pages_under_the_budget(ledger: Ledger) -> None:
    with ledger.running(RunTrigger.SCHEDULE) as run:
        for n in range(12):
            source = SourceObject(bucket="deliveries", key=f"{n:02d}/" + "k" * 500, etag=f"e{n}", size=1)
            with ledger.claim(source, run_id=run.id) as claim:
                claim.begin_attempt()
                claim.add_quarantined([(p, "r" * 700, f"reason {p}") for p in range(3)])
                claim.mark_failed(error="e" * 600, policy=RetryPolicy())
        ledger.end_run(run.id, files=FileCounts(failed=12), records=RecordCounts())
    for _ in range(5):  # runs are small on the wire: one page holds them all
        with ledger.running(RunTrigger.ADMIN) as other:
            ledger.end_run(other.id, files=FileCounts(), records=RecordCounts())

    files, file_pages = read_all(ledger.list_files)
    assert sorted(f.source.key[:2] for f in files) == [f"{n:02d}" for n in range(12)]
    assert file_pages > 1

    records, record_pages = read_all(ledger.list_quarantined)
    assert len({r.name for r in records}) == len(records) == 36
    assert record_pages > 1

    runs, _ = read_all(ledger.list_runs)
    assert len({r.id for r in runs}) == len(runs) == 6
