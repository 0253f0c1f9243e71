"""Peers with any platform certificate who hold health and reflection streams open, or send garbage."""

from __future__ import annotations

import grpc
import pytest

from gamekit.status import error_details
from tests.fixtures.catalog import StartCatalog
from tests.fixtures.idle_streams import IdleStreams
from tests.fixtures.pki import ChannelAs
from tests.fixtures.scraped import handled_total
from tests.integration.careless_callers import CATALOG, HANDLER_THREADS, list_games


def test_idle_watches_beyond_the_handler_threads_leave_the_gateway_answered(
    start_catalog: StartCatalog, database_url: str, channel_as: ChannelAs
) -> None:
    catalog = start_catalog(
        database_url, max_health_reflection_streams=40, max_health_reflection_streams_per_peer=40
    )
    with IdleStreams() as streams:
        streams.watch(channel_as(catalog.target, "operator"), HANDLER_THREADS + 4)
        assert (streams.opened, streams.waiting, streams.refused_codes) == (HANDLER_THREADS + 4, 0, [])
        list_games(channel_as(catalog.target, "gateway"))


def test_idle_reflection_streams_hit_the_caps_not_the_gateway(
    start_catalog: StartCatalog, database_url: str, channel_as: ChannelAs
) -> None:
    catalog = start_catalog(database_url)
    with IdleStreams() as streams:
        for identity in ("operator", "ingestion", "catalog"):
            streams.reflect(channel_as(catalog.target, identity), HANDLER_THREADS)
        list_games(channel_as(catalog.target, "gateway"))
        assert (streams.opened, streams.waiting) == (catalog.app.settings.max_health_reflection_streams, 0)
        assert set(streams.refused_codes) == {grpc.StatusCode.RESOURCE_EXHAUSTED}


def test_bytes_that_are_not_a_request_are_invalid_argument_and_counted(
    start_catalog: StartCatalog, database_url: str, channel_as: ChannelAs
) -> None:
    catalog = start_catalog(database_url)
    before = handled_total(catalog.host.metrics_port, CATALOG, "ListGames", "INVALID_ARGUMENT")
    raw = channel_as(catalog.target, "gateway").unary_unary(f"/{CATALOG}/ListGames")
    with pytest.raises(grpc.RpcError) as caught:
        raw(b"\xff\xff\xff\xff", timeout=10)
    details = error_details(caught.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (details.reason, details.field_violations) == ("MALFORMED_REQUEST", [])
    assert handled_total(catalog.host.metrics_port, CATALOG, "ListGames", "INVALID_ARGUMENT") == before + 1
