"""The gateway's integration tests: the shared rate limiter also runs on a private redis-server."""

from __future__ import annotations

import pytest

from tests.fixtures import plugins


def pytest_configure(config: pytest.Config) -> None:
    plugins.load(config, "tests.fixtures.redis")
