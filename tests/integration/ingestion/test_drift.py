"""Deliveries whose field types drift, as the data team's do, imported whole with their drift recorded.

Two days of an iOS and an Android file (tests.factories.dirty.drifting_deliveries): types differ
between the platforms and between the days, fields appear and vanish. Real moto S3, real PostgreSQL,
the real catalog, and the contract as a caller reads it (ListFiles over mTLS).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import grpc

from gamekit.serving.host import ServiceHost
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as pb
from games.ingestion.v1 import ingestion_pb2_grpc as pb_grpc
from ingestion.app import IngestionApp
from tests.factories.deliveries import app, delivery
from tests.factories.dirty import DriftingFile, drifting_deliveries
from tests.fixtures.catalog import RunningCatalog
from tests.fixtures.ingestion import ended_run
from tests.integration.ingestion.conftest import Put, all_games

ACTIONS = {"converted": pb.DRIFT_ACTION_CONVERTED, "dropped": pb.DRIFT_ACTION_DROPPED}


def expected_summary(file: DriftingFile) -> Counter[tuple[str, str, int]]:
    """(field, shape, action) -> records, as ListFiles must show it."""
    counted: Counter[tuple[str, str, int]] = Counter()
    for noted in file.drift.values():
        for field, shape, action in noted:
            counted[field, shape, ACTIONS[action]] += 1
    return counted


def test_two_days_of_drifting_deliveries_import_every_game_with_their_drift(
    start_ingestion_service: Callable[..., ServiceHost],
    catalog: RunningCatalog,
    bucket: str,
    put: Put,
    gateway: cpb_grpc.CatalogServiceStub,
    channel_as: Callable[[str, str], grpc.Channel],
) -> None:
    host = start_ingestion_service(bucket=bucket, catalog_target=catalog.target)
    admin = pb_grpc.IngestionServiceStub(channel_as(f"127.0.0.1:{host.port}", "gateway"))
    delivered: list[DriftingFile] = []
    for day in (1, 2):
        files = drifting_deliveries(day)
        for file in files:
            put(file.key, file.data)
        delivered += files

        run = ended_run(admin, admin.RunIngestion(pb.RunIngestionRequest()).run.name)

        assert run.state == pb.RUN_STATE_SUCCEEDED
        assert (run.files_imported, run.records_quarantined) == (2, 0)
        assert run.records_imported == sum(f.elements for f in files)

    listed = {f.key: f for f in admin.ListFiles(pb.ListFilesRequest()).files}
    for file in delivered:
        entry = listed[file.key]
        assert entry.state == pb.FILE_STATE_IMPORTED, (file.key, entry.reject_reason)
        shown = Counter({(d.field, d.shape, d.action): d.record_count for d in entry.drift})
        assert shown == expected_summary(file), file.key
        assert shown, f"{file.key} drifts: its summary must say so"
    platforms = {"ios": cpb.PLATFORM_IOS, "android": cpb.PLATFORM_ANDROID}
    identified = {
        (platforms[f.platform], str(app["app_id"]))
        for f in delivered
        for group in json.loads(f.data)
        for app in group
    }
    assert {(g.platform, g.store_id) for g in all_games(gateway)} == identified, "every game it identifies"


def test_an_integer_beyond_64_bits_is_read_exactly_and_the_file_imported(
    ingestion: IngestionApp, put: Put, gateway: cpb_grpc.CatalogServiceStub
) -> None:
    big = 98765432109876543210  # 20 digits: the C parser's integers stop at 2**63
    put("big/android.top100.json", delivery([[app(1, "android") | {"app_id": big}], [app(2, "android")]]))

    summary = ingestion.runner.run()

    assert summary.succeeded, summary
    assert summary.run.records_imported == 2
    assert str(big) in {g.store_id for g in all_games(gateway)}
