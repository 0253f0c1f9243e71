"""The gateway fixtures (tests/fixtures/gateway.py), for the gateway's integration tests."""

from tests.fixtures.gateway import (  # noqa: F401 - fixtures are found by name
    api_keys,
    gateway_channel,
    platform,
    start_gateway,
    start_ingestion_service,
)
