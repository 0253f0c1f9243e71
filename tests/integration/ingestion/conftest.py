"""Shared parts of ingestion's integration tests: a catalog on the platform database, S3 helpers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from gamectl.certs import DevPki
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from tests.factories.deliveries import large_delivery
from tests.fixtures import plugins
from tests.fixtures.catalog import RunningCatalog, StartCatalog
from tests.fixtures.ingestion import ingestion_env

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from ingestion.app import IngestionApp

Put = Callable[..., str]
LARGE_RECORDS = 100_000
MEDIUM_RECORDS = 15_000


def pytest_configure(config: pytest.Config) -> None:
    # Failed runs post to a Slack-compatible webhook: tests/fixtures/webhook.py plays it.
    plugins.load(config, "tests.fixtures.webhook")


@pytest.fixture(scope="session")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 100k-record delivery (about 500 MB of JSON, gzipped), written once per session."""
    path = tmp_path_factory.mktemp("large") / "ios.top100.json.gz"
    large_delivery(path, LARGE_RECORDS)
    return path


@pytest.fixture(scope="session")
def medium_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated delivery that takes a few seconds to import: long enough to be cut in the middle."""
    path = tmp_path_factory.mktemp("medium") / "ios.top100.json.gz"
    large_delivery(path, MEDIUM_RECORDS)
    return path


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


@pytest.fixture
def env(
    dev_pki: DevPki, platform_database_url: str, bucket: str, catalog: RunningCatalog, aws_env: dict[str, str]
) -> dict[str, str]:
    """The environment of an `ingestion run-once` subprocess on the test's parts."""
    return {
        **os.environ,
        **aws_env,
        **ingestion_env(dev_pki, platform_database_url, bucket=bucket, catalog_target=catalog.target),
    }
