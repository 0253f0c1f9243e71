"""Issue 12's hostile and careless callers against the real platform, as `make up` runs it.

Each test is what a caller of the suite's gateway process notices: idle streams without a key are
capped while keyed calls are answered, bytes that are no request are the caller's mistake (and
counted), RunIngestion answers at once, a search the index cannot serve is refused, padded requests
share one cache entry, and one key's held call does not hold another key's. Calls are held open
deterministically by locking a table in the suite's database, never by timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, closing

import grpc
import pytest
from sqlalchemy import Engine

from gamectl.certs import ensure_dev_pki
from gamekit.settings import ServiceSettings
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as ipb
from games.ingestion.v1 import ingestion_pb2_grpc as ipb_grpc
from gamesclient.channel import open_channel
from gateway.callers.keys import create_key
from ingestion.ledger.database import make_engine
from tests.e2e.callers import gateway_catalog, gateway_channel, gateway_target, wait_accepted
from tests.e2e.conftest import E2ESuite, metrics_port, scrape, wait_following
from tests.fixtures.databases import holding, wait_until_a_lock_is_awaited
from tests.fixtures.idle_streams import IdleStreams
from tests.fixtures.ingestion import ended_run, files_table_held, wait_until_a_run_waits
from tests.fixtures.scraped import handled_total, sample
from tests.fixtures.wire import unknown_field

pytestmark = pytest.mark.slow

DEADLINE = 20.0  # generous: the machine may be busy; no test measures speed
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
CATALOG = "games.catalog.v1.CatalogService"
# The suite's gateway runs with gamekit's defaults: health and reflection streams per caller and in total.
STREAMS_PER_CALLER = ServiceSettings.model_fields["max_health_reflection_streams_per_peer"].default
STREAMS_TOTAL = ServiceSettings.model_fields["max_health_reflection_streams"].default
# A field tag whose varint never ends: no protobuf message parses from it.
GARBAGE = b"\xff\xff\xff\xff"
HOLD = 60  # seconds a statement may wait for a lock a test holds: longer than any test holds one


@pytest.fixture(scope="module")
def suite_environ() -> dict[str, str]:
    """Lock waits long enough that a call held at a lock this module takes stays held until let go."""
    return {"CATALOG_DB_LOCK_TIMEOUT_SECONDS": str(HOLD), "INGESTION_DB_LOCK_TIMEOUT_SECONDS": str(HOLD)}


@pytest.fixture(scope="module")
def database_url(platform_suite: E2ESuite) -> str:
    """The suite's database, which the catalog and ingestion share (each its own schema)."""
    return platform_suite.service("ingestion").env["INGESTION_DATABASE_URL"]


@pytest.fixture(scope="module")
def database(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def wait_until_a_statement_waits(database: Engine, timeout: float = DEADLINE) -> None:
    """Until some statement in the suite's database waits for a lock (the call a test holds there)."""
    wait_until_a_lock_is_awaited(database, timeout=timeout, failure="the held call never reached PostgreSQL")


def list_games(games: cpb_grpc.CatalogServiceStub, page_size: int = 1) -> cpb.ListGamesResponse:
    return games.ListGames(cpb.ListGamesRequest(page_size=page_size), timeout=DEADLINE)


def test_idle_streams_without_a_key_hit_the_caps_and_keyed_callers_are_answered(
    platform_suite: E2ESuite,
) -> None:
    target = gateway_target(platform_suite)
    pki = ensure_dev_pki(platform_suite.suite.local_dir / "certs")
    reader = gateway_catalog(platform_suite, platform_suite.api_key("reader"))
    with ExitStack() as stack:
        # Three callers without a key, each its own certificate: the caps count callers by identity.
        first, second, third = (
            stack.enter_context(
                closing(
                    open_channel(
                        target,
                        api_key="",
                        ca_file=pki.ca_file,
                        cert_file=pki.certs[name].cert_file,
                        key_file=pki.certs[name].key_file,
                        timeout=None,
                    )
                )
            )
            for name in ("operator", "ingestion", "catalog")
        )
        streams = stack.enter_context(IdleStreams())

        streams.watch(first, STREAMS_PER_CALLER + 2)
        assert (streams.opened, streams.waiting) == (STREAMS_PER_CALLER, 0)
        assert streams.refused_codes == [EXHAUSTED, EXHAUSTED]
        one_caller = error_details(streams.refused[0])
        assert one_caller.reason == "TOO_MANY_STREAMS"
        assert "one caller" in one_caller.message
        list_games(reader)

        streams.reflect(second, STREAMS_PER_CALLER + 1)
        assert (streams.opened, streams.waiting) == (STREAMS_TOTAL, 0)
        assert len(streams.refused) == 3, "each caller has a cap of its own"

        streams.watch(third).reflect(third)
        assert (streams.opened, streams.waiting) == (STREAMS_TOTAL, 0)
        assert streams.refused_codes == [EXHAUSTED] * 5
        whole_server = error_details(streams.refused[-1])
        assert whole_server.reason == "TOO_MANY_STREAMS"
        assert "this server" in whole_server.message
        assert whole_server.retry_after is not None

        # With every stream place taken, a caller with a key is answered as ever.
        list_games(reader)


def test_bytes_that_are_not_a_request_are_invalid_argument_with_or_without_a_key_and_counted(
    platform_suite: E2ESuite,
) -> None:
    target = gateway_target(platform_suite)
    port = metrics_port(platform_suite.service("gateway"))
    before = handled_total(port, CATALOG, "GetGame", "INVALID_ARGUMENT")
    for key in (platform_suite.api_key("reader"), ""):
        raw = platform_suite.channel(target, key).unary_unary(
            f"/{CATALOG}/GetGame", request_serializer=None, response_deserializer=None
        )
        with pytest.raises(grpc.RpcError) as caught:
            raw(GARBAGE, timeout=DEADLINE)
        details = error_details(caught.value)
        assert details.code == grpc.StatusCode.INVALID_ARGUMENT
        assert (details.reason, details.field_violations) == ("MALFORMED_REQUEST", [])
        assert "GetGame" in details.message
        assert details.request_id
    assert handled_total(port, CATALOG, "GetGame", "INVALID_ARGUMENT") == before + 2


def test_a_search_the_index_cannot_serve_is_refused_on_its_query(platform_suite: E2ESuite) -> None:
    games = gateway_catalog(platform_suite, platform_suite.api_key("reader"))
    with pytest.raises(grpc.RpcError) as refused:
        games.SearchGames(cpb.SearchGamesRequest(query="!!!"), timeout=DEADLINE)
    details = error_details(refused.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [violation.field for violation in details.field_violations] == ["query"]


def test_padded_requests_get_the_plain_answer_from_one_cache_entry(platform_suite: E2ESuite) -> None:
    gateway = platform_suite.service("gateway")
    wait_following(gateway)
    channel = gateway_channel(platform_suite, platform_suite.api_key("reader"))
    raw = channel.unary_unary(
        f"/{CATALOG}/ListGames", request_serializer=None, response_deserializer=None
    )  # bytes as sent, past any stub
    plain = cpb.ListGamesRequest(page_size=3).SerializeToString()
    answer = raw(plain, timeout=DEADLINE)
    before = scrape(gateway)
    padded = 20

    for n in range(1, padded + 1):
        assert raw(plain + unknown_field(1000 + n, n), timeout=DEADLINE) == answer

    after = scrape(gateway)
    assert sample(after, "gateway_cache_entries") == sample(before, "gateway_cache_entries")
    hits = [
        sample(s, "gateway_cache_lookups_total", grpc_method="ListGames", result="hit")
        for s in (before, after)
    ]
    assert hits[1] == hits[0] + padded


def test_a_key_at_its_in_flight_limit_is_refused_while_other_keys_are_answered(
    platform_suite: E2ESuite, database: Engine, database_url: str
) -> None:
    single = create_key(
        platform_suite.suite.keys_file, key_id="one-at-a-time", scopes=["games.read"], max_in_flight=1
    )
    held_key = gateway_catalog(platform_suite, single)
    wait_accepted(held_key)
    reader = gateway_catalog(platform_suite, platform_suite.api_key("reader"))
    wait_following(platform_suite.service("gateway"))
    list_games(reader)  # now in the gateway's cache, so answered while the catalog's table is locked

    with holding(database_url, "LOCK TABLE catalog.games IN ACCESS EXCLUSIVE MODE"):
        # A read no one made before, so the gateway's cache cannot answer it: it waits in the catalog.
        held = held_key.ListGames.future(cpb.ListGamesRequest(page_size=7), timeout=HOLD)
        wait_until_a_statement_waits(database)
        with pytest.raises(grpc.RpcError) as refused:
            list_games(held_key)
        details = error_details(refused.value)
        assert (details.code, details.reason) == (EXHAUSTED, "TOO_MANY_IN_FLIGHT")
        assert details.message.startswith("one-at-a-time has 1 calls in flight")
        assert details.retry_after is not None
        list_games(reader)
    assert held.result(timeout=DEADLINE) == list_games(reader, page_size=7)
    list_games(held_key)  # the limit counts calls in flight: the key may call again


def test_run_ingestion_answers_at_once_and_a_second_is_aborted_while_it_runs(
    platform_suite: E2ESuite, database: Engine, database_url: str
) -> None:
    admin = gateway_channel(platform_suite, platform_suite.api_key("admin"))
    ingestion = ipb_grpc.IngestionServiceStub(admin)
    with files_table_held(database_url):
        started = ingestion.RunIngestion(ipb.RunIngestionRequest(), timeout=DEADLINE).run
        # Answered while the run cannot have imported a file: it waits for the lock held here.
        assert started.state == ipb.RUN_STATE_RUNNING
        assert started.name.startswith("runs/")
        wait_until_a_run_waits(database)
        with pytest.raises(grpc.RpcError) as busy:
            ingestion.RunIngestion(ipb.RunIngestionRequest(), timeout=DEADLINE)
        details = error_details(busy.value)
        assert (details.code, details.reason) == (grpc.StatusCode.ABORTED, "RUN_IN_PROGRESS")
        assert started.name in details.message

    ended = ended_run(ingestion, started.name)
    assert ended.state == ipb.RUN_STATE_SUCCEEDED
    assert ended.files_imported > 0
    assert list_games(gateway_catalog(platform_suite, platform_suite.api_key("reader"))).games
