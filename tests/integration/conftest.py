"""The integration layer: the services in-process on a private PostgreSQL and moto's S3 and SQS."""

from __future__ import annotations

import pytest

from tests.fixtures import plugins


def pytest_configure(config: pytest.Config) -> None:
    plugins.load(
        config,
        "tests.fixtures.postgres",
        "tests.fixtures.catalog",
        "tests.fixtures.moto",
        "tests.fixtures.ingestion",
        "tests.fixtures.gateway",
    )
