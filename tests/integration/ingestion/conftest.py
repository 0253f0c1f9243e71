"""Shared parts of ingestion's integration tests: a catalog on the platform database, S3 helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from tests.fixtures.catalog import RunningCatalog, StartCatalog

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from ingestion.app import IngestionApp

Put = Callable[..., str]


@pytest.fixture
def catalog(start_catalog: StartCatalog, platform_database_url: str) -> RunningCatalog:
    """The real catalog on the same database as ingestion's ledger."""
    return start_catalog(platform_database_url)


@pytest.fixture
def gateway(
    catalog: RunningCatalog, channel_as: Callable[[str, str], grpc.Channel]
) -> cpb_grpc.CatalogServiceStub:
    """CatalogService as the gateway sees it: reads, writes, rollback."""
    return cpb_grpc.CatalogServiceStub(channel_as(catalog.target, "gateway"))


@pytest.fixture
def put(s3_client: S3Client, bucket: str) -> Put:
    """Upload bytes under a key of the test's bucket; returns the ETag."""

    def upload(key: str, body: bytes, **extra: Any) -> str:
        return s3_client.put_object(Bucket=bucket, Key=key, Body=body, **extra)["ETag"].strip('"')

    return upload


@pytest.fixture
def ingestion(
    build_ingestion_app: Callable[..., IngestionApp], catalog: RunningCatalog, bucket: str
) -> IngestionApp:
    """An ingestion app on the test's bucket, database and catalog."""
    return build_ingestion_app(bucket=bucket, catalog_target=catalog.target)


def all_games(stub: cpb_grpc.CatalogServiceStub) -> list[cpb.Game]:
    """Every game in the catalog, page by page."""
    games: list[cpb.Game] = []
    token = ""
    while True:
        page = stub.ListGames(cpb.ListGamesRequest(page_size=1000, page_token=token))
        games += page.games
        token = page.next_page_token
        if not token:
            return games


def imports(stub: cpb_grpc.CatalogServiceStub) -> list[cpb.Import]:
    """Every import the catalog published, newest first."""
    return list(stub.ListImports(cpb.ListImportsRequest(page_size=1000)).imports)


# THROWAWAY until tests/factories/deliveries.py lands.
try:
    import tests.factories.deliveries  # noqa: F401
except ImportError:
    import sys

    from tests.integration.ingestion import _standin_factories

    sys.modules["tests.factories.deliveries"] = _standin_factories
