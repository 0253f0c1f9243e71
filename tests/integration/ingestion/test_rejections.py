"""Files that go wrong: stopped, kept out of the catalog, said once, and accepted by an operator.

Real moto S3, real PostgreSQL, the real catalog, a real webhook receiver on loopback.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from gamekit.errors import Aborted
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from ingestion.app import IngestionApp
from ingestion.ledger.claims import lock_key
from ingestion.model import FileState, Outcome, RunState
from tests.factories.deliveries import app, delivery
from tests.fixtures.catalog import RunningCatalog
from tests.fixtures.webhook import Webhook
from tests.integration.ingestion.conftest import Put, all_games, imports

Build = Callable[..., IngestionApp]


def rejected(cause: str) -> float:
    return REGISTRY.get_sample_value("ingestion_files_rejected_total", {"cause": cause}) or 0.0


def names(stub: cpb_grpc.CatalogServiceStub) -> dict[str, str]:
    return {g.store_id: g.display_name for g in all_games(stub)}


def test_an_over_threshold_file_publishes_nothing_alerts_once_and_can_be_accepted(
    build_ingestion_app: Build,
    catalog: RunningCatalog,
    bucket: str,
    gateway: cpb_grpc.CatalogServiceStub,
    put: Put,
    webhook: Webhook,
) -> None:
    ingestion = build_ingestion_app(
        bucket=bucket, catalog_target=catalog.target, alert_webhook_url=webhook.url
    )
    put("2026-12-01/ios.top100.json", delivery([[app(n)] for n in range(1, 21)]))
    assert ingestion.runner.run().succeeded
    before = names(gateway)
    assert len(before) == 20

    # The next day's export is broken: every other record lost its app_id.
    broken = [[app(n, name=f"Renamed {n}")] for n in range(1, 11)]
    broken += [[{k: v for k, v in app(n).items() if k != "app_id"}] for n in range(11, 21)]
    broken += [[{}] for _ in range(2)]
    put("2026-12-02/ios.top100.json", delivery(broken))
    counted = rejected("quarantined")

    summary = ingestion.runner.run()

    assert summary.run.state is RunState.FAILED
    assert (summary.run.files_skipped, summary.run.files_rejected) == (1, 1)
    [outcome] = [o for o in summary.files if o.outcome is Outcome.REJECTED]
    assert outcome.reason.startswith("12 of 22 records quarantined (54.5%, more than the 5.0% allowed)")
    assert "first reason: missing app_id" in outcome.reason
    assert names(gateway) == before, "nothing of a rejected file reaches the catalog"
    assert len(imports(gateway)) == 1
    entry = ingestion.ledger.get_file(outcome.file_id or 0)
    assert (entry.state, entry.reject_reason) == (FileState.REJECTED, outcome.reason)
    assert entry.records.quarantined == 12
    assert len(ingestion.ledger.list_quarantined(file_id=entry.id, page_size=100).items) == 12
    assert rejected("quarantined") == counted + 1
    [alert] = webhook.payloads()
    assert alert["files_rejected"] == 1
    assert "2026-12-02/ios.top100.json: rejected: 12 of 22 records quarantined" in alert["text"]

    again = ingestion.runner.run()
    assert again.succeeded, "a rejected file fails no later run"
    assert again.run.files_skipped == 2
    assert len(webhook.received) == 1, "said once"
    assert rejected("quarantined") == counted + 1

    summary, accepted = ingestion.runner.accept(entry.id, accepted_by="ops-admin via spiffe://x")
    assert summary.succeeded
    assert (accepted.state, accepted.accepted_by) == (FileState.IMPORTED, "ops-admin via spiffe://x")
    assert accepted.records.quarantined == 12
    after = names(gateway)
    assert [after[str(app(n)["app_id"])] for n in (1, 10)] == ["Renamed 1", "Renamed 10"]
    assert ingestion.runner.run().run.files_skipped == 2, "an accepted file is imported once"


def test_quarantine_rows_are_bounded_and_the_rest_counted(
    build_ingestion_app: Build, catalog: RunningCatalog, bucket: str, put: Put
) -> None:
    ingestion = build_ingestion_app(bucket=bucket, catalog_target=catalog.target, max_quarantine_rows=5)
    put(
        "q/ios.top100.json", delivery([[{"name": f"no id {n}", "os": "ios"}] for n in range(30)] + [[app(1)]])
    )

    (outcome,) = ingestion.runner.run().files

    assert outcome.outcome is Outcome.REJECTED
    entry = ingestion.ledger.get_file(outcome.file_id or 0)
    assert entry.records.quarantined == 30
    kept = ingestion.ledger.list_quarantined(file_id=entry.id, page_size=100).items
    assert sorted(r.position for r in kept) == [0, 1, 2, 3, 4], "the first ones are kept, the rest counted"


def test_a_transient_failure_is_retried_by_later_runs_then_rejected(
    build_ingestion_app: Build, catalog: RunningCatalog, bucket: str, put: Put, webhook: Webhook
) -> None:
    ingestion = build_ingestion_app(
        bucket=bucket,
        catalog_target=catalog.target,
        max_file_failures=2,
        file_retry_window_seconds=0,
        alert_webhook_url=webhook.url,
    )
    put("t/ios.top100.json", delivery([[app(1)]]))
    catalog.host.stop(0)
    gave_up = rejected("gave_up")

    first = ingestion.runner.run()
    (outcome,) = first.files
    assert (first.run.state, outcome.outcome) == (RunState.FAILED, Outcome.FAILED)
    entry = ingestion.ledger.get_file(outcome.file_id or 0)
    assert (entry.state, entry.failures) == (FileState.FAILED, 1)
    assert "the catalog is unavailable" in entry.error

    second = ingestion.runner.run()
    (outcome,) = second.files
    assert outcome.outcome is Outcome.REJECTED
    assert outcome.reason.startswith("gave up after 2 or more failed runs over 0 h; the last: the catalog is")
    assert rejected("gave_up") == gave_up + 1
    assert ingestion.ledger.get_file(entry.id).state is FileState.REJECTED

    third = ingestion.runner.run()
    assert third.succeeded
    assert third.run.files_skipped == 1
    assert len(webhook.received) == 2, "one alert per failed run, none once the file is rejected"


def test_a_new_delivery_under_the_key_of_a_rejected_file_is_a_new_file(
    ingestion: IngestionApp, gateway: cpb_grpc.CatalogServiceStub, put: Put
) -> None:
    put("same/ios.top100.json", b"[[{")
    assert ingestion.runner.run().run.files_rejected == 1

    put("same/ios.top100.json", delivery([[app(1)]]))
    fixed = ingestion.runner.run()

    assert fixed.succeeded
    assert (fixed.run.files_imported, fixed.run.files_rejected) == (1, 0)
    assert len(all_games(gateway)) == 1
    files = ingestion.ledger.list_files(page_size=10).items
    assert sorted(f.state.value for f in files) == ["imported", "rejected"]


def test_an_accept_that_fails_keeps_the_rejection_as_it_was(
    ingestion: IngestionApp, catalog: RunningCatalog, put: Put
) -> None:
    put("a/ios.top100.json", delivery([[app(1)], [{}], [{}]]))
    (outcome,) = ingestion.runner.run().files
    before = ingestion.ledger.get_file(outcome.file_id or 0)
    assert before.state is FileState.REJECTED
    catalog.host.stop(0)

    summary, after = ingestion.runner.accept(before.id, accepted_by="ops")

    assert summary.run.state is RunState.FAILED
    assert after.state is FileState.REJECTED
    assert (after.reject_reason, after.records) == (before.reject_reason, before.records)
    assert after.error.startswith("accepted by ops, but the import failed: the catalog is unavailable")
    kept = ingestion.ledger.list_quarantined(file_id=before.id).items
    assert sorted(r.position for r in kept) == [1, 2], "the quarantine the operator judged by is kept"


def test_games_with_every_field_at_its_cap_go_in_batches_the_catalog_takes(
    build_ingestion_app: Build,
    catalog: RunningCatalog,
    bucket: str,
    put: Put,
    gateway: cpb_grpc.CatalogServiceStub,
) -> None:
    # 500 such games make an 8 MiB message; the catalog takes 4 MiB at most.
    ingestion = build_ingestion_app(bucket=bucket, catalog_target=catalog.target, import_batch_size=500)
    big = {"publisher_name": "p" * 2000, "version": "v" * 2000, "bundle_id": "b" * 2000}
    big["categories"] = ["c" * 200] * 20
    put("big/ios.top100.json", delivery([[app(n) | big] for n in range(1, 401)]))

    summary = ingestion.runner.run()

    assert summary.succeeded, summary
    assert len(all_games(gateway)) == 400


def test_accepting_a_file_another_run_holds_is_aborted_not_reported_done(
    ingestion: IngestionApp, put: Put
) -> None:
    put("busy/ios.top100.json", b"[[{")
    (outcome,) = ingestion.runner.run().files
    entry = ingestion.ledger.get_file(outcome.file_id or 0)

    # Another replica's accept of the same file holds its lock (and has not yet marked it importing).
    with ingestion.engine.connect() as other:
        other.execute(select(func.pg_advisory_lock(lock_key(entry.source))))
        with pytest.raises(Aborted, match="being imported by a concurrent run") as busy:
            ingestion.runner.accept(entry.id, accepted_by="ops")
        other.execute(select(func.pg_advisory_unlock(lock_key(entry.source))))

    assert busy.value.reason == "FILE_BUSY"
    assert ingestion.ledger.get_file(entry.id).state is FileState.REJECTED


def test_a_reason_quoting_a_huge_token_is_clipped_before_it_is_stored_or_sent(
    ingestion: IngestionApp, put: Put
) -> None:
    # Past Python's 4,300-digit limit for int(): both parsers refuse it, and quote the whole token.
    put(
        "huge/ios.top100.json",
        b'[[{"app_id": 1, "os": "ios", "name": "x", "rating": ' + b"9" * 100_000 + b"}]]",
    )

    (outcome,) = ingestion.runner.run().files

    entry = ingestion.ledger.get_file(outcome.file_id or 0)
    assert entry.state is FileState.REJECTED
    assert 100 < len(entry.reject_reason) <= 2000
    assert len(outcome.reason) <= 2000
