"""Runs against moto's S3, real PostgreSQL and the real catalog: dirt, skips, overwrites, gzip, rollback."""

from __future__ import annotations

import gzip
from collections.abc import Callable

from mypy_boto3_s3 import S3Client
from prometheus_client import REGISTRY

from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from ingestion import metrics
from ingestion.app import IngestionApp
from ingestion.model import EventOutcome, FileState, Outcome, RunState, RunTrigger
from tests.factories.deliveries import app, delivery
from tests.factories.dirty import dirty_delivery
from tests.fixtures.catalog import RunningCatalog
from tests.integration.ingestion.conftest import Put, all_games, imports


def sid(n: int, platform: str = "ios") -> str:
    return str(app(n, platform)["app_id"])


def by_store_id(stub: cpb_grpc.CatalogServiceStub) -> dict[str, cpb.Game]:
    return {g.store_id: g for g in all_games(stub)}


def test_dirty_records_are_repaired_quarantined_and_deduplicated(
    build_ingestion_app: Callable[..., IngestionApp],
    catalog: RunningCatalog,
    bucket: str,
    gateway: cpb_grpc.CatalogServiceStub,
    put: Put,
) -> None:
    # A third of this file is dirt: far above the default share, so the limit is lifted here (see
    # test_rejections.py for the default).
    ingestion = build_ingestion_app(bucket=bucket, catalog_target=catalog.target, max_quarantine_ratio=1.0)
    body, expected = dirty_delivery()
    put("2026-11-23/ios.top100.json", body)

    summary = ingestion.runner.run()

    assert summary.succeeded, summary
    run = summary.run
    assert run.files_imported == 1
    assert run.records_imported == len(expected.accepted)
    assert run.records_repaired == len(expected.repairs)
    assert run.records_quarantined == len(expected.quarantined)
    assert run.records_duplicate == len(expected.accepted) - len(expected.games)
    games = by_store_id(gateway)
    assert {sid: (g.display_name, g.best_rank) for sid, g in games.items()} == {
        sid: (g.display_name, g.best_rank) for sid, g in expected.games.items()
    }

    file_id = summary.files[0].file_id
    assert file_id is not None
    quarantined = {
        r.position: r for r in ingestion.ledger.list_quarantined(file_id=file_id, page_size=100).items
    }
    assert sorted(quarantined) == sorted(expected.quarantined)
    for position, fragment in expected.quarantined.items():
        assert fragment in quarantined[position].reason, (position, quarantined[position].reason)
    assert quarantined[1 + 3].raw == "{}"
    repairs: dict[int, list[tuple[str, str, str]]] = {}
    for x in ingestion.ledger.list_repairs(file_id):
        repairs.setdefault(x.position, []).append((x.field, x.repaired, x.encoding))
    assert {p: sorted(r) for p, r in repairs.items()} == {p: sorted(r) for p, r in expected.repairs.items()}
    entry = ingestion.ledger.get_file(file_id)
    assert entry.state is FileState.IMPORTED
    assert entry.records == summary.files[0].records
    assert entry.catalog_import == summary.files[0].catalog_import


def test_a_file_is_imported_once_an_overwrite_or_a_new_key_again(
    ingestion: IngestionApp, gateway: cpb_grpc.CatalogServiceStub, put: Put
) -> None:
    put("daily/ios.top100.json", delivery([[app(1), app(2)]]))
    assert ingestion.runner.run().run.files_imported == 1

    again = ingestion.runner.run()
    assert (again.run.files_imported, again.run.files_skipped) == (0, 1)
    assert again.files[0].reason.startswith("already imported as imports/")

    put("daily/ios.top100.json", delivery([[app(1, name="Renamed"), app(3)]]))
    overwritten = ingestion.runner.run()
    assert overwritten.run.files_imported == 1, "the same key with new content is a new file"

    put("2026-11-24/ios.top100.json", delivery([[app(4)]]))
    dated = ingestion.runner.run()
    assert (dated.run.files_imported, dated.run.files_skipped) == (1, 1)

    assert len(imports(gateway)) == 3
    games = by_store_id(gateway)
    assert sorted(games) == sorted(sid(n) for n in (1, 2, 3, 4))
    assert games[sid(1)].display_name == "Renamed"
    assert len(ingestion.ledger.list_files(page_size=10).items) == 3


def test_gzip_by_extension_and_by_content_encoding(
    ingestion: IngestionApp, gateway: cpb_grpc.CatalogServiceStub, put: Put
) -> None:
    put("gz/ios.top100.json.gz", gzip.compress(delivery([[app(1), app(2)]])))
    put(
        "gz/android.top100.json",
        gzip.compress(delivery([[app(3, platform="android")]])),
        ContentEncoding="gzip",
    )
    put("gz/readme.txt", b"not a delivery")

    summary = ingestion.runner.run()

    assert summary.succeeded, summary
    assert summary.run.files_imported == 2
    assert len(all_games(gateway)) == 3


def test_a_broken_file_is_rejected_alone_publishes_nothing_and_is_not_taken_again(
    ingestion: IngestionApp, gateway: cpb_grpc.CatalogServiceStub, put: Put
) -> None:
    good = delivery([[app(n) for n in range(1, 40)]])
    put("mixed/1-good.json", good)
    put("mixed/2-truncated.json", good[: len(good) // 2])
    put("mixed/3-not-json.json", b"<html>Access denied</html>")
    put("mixed/4-bad-gzip.json.gz", b"\x1f\x8b\x08\x00garbage")
    put("mixed/5-wrong-shape.json", b'{"apps": []}')

    summary = ingestion.runner.run()

    assert summary.run.state is RunState.FAILED
    outcomes = {o.source.key: o for o in summary.files}
    assert outcomes["mixed/1-good.json"].outcome is Outcome.IMPORTED
    for key in (
        "mixed/2-truncated.json",
        "mixed/3-not-json.json",
        "mixed/4-bad-gzip.json.gz",
        "mixed/5-wrong-shape.json",
    ):
        assert outcomes[key].outcome is Outcome.REJECTED, key
        assert outcomes[key].reason, key
    assert "truncated" in outcomes["mixed/2-truncated.json"].reason
    assert "not JSON" in outcomes["mixed/3-not-json.json"].reason
    assert "gzip" in outcomes["mixed/4-bad-gzip.json.gz"].reason
    assert "wrong shape" in outcomes["mixed/5-wrong-shape.json"].reason
    assert [i.source.key for i in imports(gateway)] == ["mixed/1-good.json"]
    assert len(all_games(gateway)) == 39
    assert summary.run.files_rejected == 4
    assert dict(summary.run.failures) == {
        k: f"rejected: {o.reason}" for k, o in outcomes.items() if o.outcome is Outcome.REJECTED
    }

    again = ingestion.runner.run()
    assert again.succeeded, "a rejected file is not taken again, so it fails no later run"
    assert (again.run.files_skipped, again.run.files_failed, again.run.files_rejected) == (5, 0, 0)
    assert all(o.reason.startswith("rejected: ") for o in again.files if "good" not in o.source.key)


def test_rollback_through_the_catalog_restores_the_games(
    ingestion: IngestionApp, gateway: cpb_grpc.CatalogServiceStub, put: Put
) -> None:
    put("r/1.json", delivery([[app(1, name="First"), app(2, name="Second")]]))
    ingestion.runner.run()
    put("r/2.json", delivery([[app(1, name="Changed"), app(3, name="Third")]]))
    second = ingestion.runner.run()
    (name,) = [o.catalog_import for o in second.files if o.outcome is Outcome.IMPORTED]
    assert {g.display_name for g in all_games(gateway)} == {"Changed", "Second", "Third"}

    rolled = gateway.RollbackImport(cpb.RollbackImportRequest(name=name)).import_record
    assert rolled.state == cpb.IMPORT_STATE_ROLLED_BACK
    assert {g.display_name for g in all_games(gateway)} == {"First", "Second"}
    assert ingestion.runner.run().run.files_skipped == 2, "a rolled-back file is not imported again"


def test_the_event_path_handles_one_object(
    ingestion: IngestionApp, gateway: cpb_grpc.CatalogServiceStub, put: Put, bucket: str, s3_client: S3Client
) -> None:
    put("events/ios.top100.json", delivery([[app(1)]]))
    put("events/broken.json", b"[[")
    run_object = ingestion.runner.run_object
    assert run_object(bucket, "events/ios.top100.json") is EventOutcome.DONE
    assert run_object(bucket, "events/ios.top100.json") is EventOutcome.DONE, "already imported"
    assert run_object(bucket, "events/broken.json") is EventOutcome.DONE, "rejected: never taken again"
    assert run_object(bucket, "events/notes.txt") is EventOutcome.DONE, "not a delivery: nothing to do"
    assert run_object(bucket, "events/gone.json") is EventOutcome.DONE, "deleted since the event"
    assert run_object("someone-elses-bucket", "events/ios.top100.json") is EventOutcome.FOREIGN
    runs = ingestion.ledger.list_runs(page_size=10).items
    assert {r.trigger for r in runs} == {RunTrigger.EVENT}
    assert [r.state for r in reversed(runs)] == [
        RunState.SUCCEEDED,
        RunState.SUCCEEDED,
        RunState.FAILED,
        RunState.SUCCEEDED,
    ]
    assert len(imports(gateway)) == 1


def test_metrics_count_files_and_records_and_survive_a_restart(ingestion: IngestionApp, put: Put) -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {o: sample("ingestion_files_total", outcome=o) for o in ("imported", "skipped", "rejected")}
    quarantined = sample("ingestion_records_total", outcome="quarantined")
    unreadable = sample("ingestion_files_rejected_total", cause="unreadable")
    put("m/ios.top100.json", delivery([[app(n) for n in range(1, 21)] + [{}]]))  # 1 in 21: under 5%
    put("m/broken.json", b"[")
    ingestion.runner.run()
    assert sample("ingestion_files_total", outcome="imported") - before["imported"] == 1
    assert sample("ingestion_files_total", outcome="rejected") - before["rejected"] == 1
    assert sample("ingestion_files_rejected_total", cause="unreadable") - unreadable == 1
    assert sample("ingestion_records_total", outcome="quarantined") - quarantined == 1
    ingestion.runner.run()
    assert sample("ingestion_files_rejected_total", cause="unreadable") - unreadable == 1, "once per version"

    put("m/broken.json", delivery([[app(30)]]))
    ok = ingestion.runner.run()
    assert ok.succeeded
    assert ok.run.end_time is not None
    assert sample("ingestion_last_success_timestamp_seconds") == ok.run.end_time.timestamp()
    restarted = metrics.LedgerTime()  # as in a new process
    restarted.follow(ingestion.ledger.last_success_time)
    assert restarted.value() == ok.run.end_time.timestamp()
