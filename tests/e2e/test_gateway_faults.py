"""The platform under faults, through real processes: writes and the cache, restarts, drains, a lost database.

Callers here use channels with NO retry policy of their own (conftest `E2ESuite.channel`), so whatever
the platform does not absorb reaches the test as an error.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable, Iterator

import grpc
import pytest
from google.protobuf import field_mask_pb2

from gamectl.suite import RunningService
from gamekit.status import error_details
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from tests.e2e.callers import gateway_catalog, unlimited_rate
from tests.e2e.conftest import E2ESuite, Load, Outcome, scrape, wait_following
from tests.fixtures.eventually import eventually
from tests.fixtures.scraped import sample
from tests.fixtures.servers import wait_serving

pytestmark = pytest.mark.slow

DEADLINE = 5.0  # a caller's deadline on each read


@pytest.fixture(scope="module")
def suite_environ() -> dict[str, str]:
    """Default limits far above this module's load: here a refused call would be a failure."""
    return unlimited_rate()


@pytest.fixture(scope="module")
def admin(platform_suite: E2ESuite) -> cpb_grpc.CatalogServiceStub:
    """CatalogService through the suite's gateway with the admin key."""
    return gateway_catalog(platform_suite, platform_suite.api_key("admin"))


@pytest.fixture(scope="module")
def reader(platform_suite: E2ESuite) -> cpb_grpc.CatalogServiceStub:
    """CatalogService through the suite's gateway with the reader key."""
    return gateway_catalog(platform_suite, platform_suite.api_key("reader"))


@pytest.fixture
def extra_gateway(platform_suite: E2ESuite) -> Iterator[Callable[[], RunningService]]:
    """Starts a second gateway in front of the same backends, its cache in use; stopped after the test."""

    def start() -> RunningService:
        gateway = platform_suite.start_gateway(0)
        wait_serving(gateway)
        # SERVING says the backends answer health; the cache waits for the revision watch as well.
        wait_following(gateway)
        return gateway

    yield start
    platform_suite.stop_extras()


def create_game(admin: cpb_grpc.CatalogServiceStub, display_name: str) -> cpb.Game:
    """A new game, created through the gateway."""
    game = cpb.Game(display_name=display_name, platform=cpb.PLATFORM_IOS, store_id=uuid.uuid4().hex)
    request = cpb.CreateGameRequest(game=game, request_id=str(uuid.uuid4()))
    return admin.CreateGame(request, timeout=DEADLINE).game


def rename(admin: cpb_grpc.CatalogServiceStub, name: str, display_name: str) -> None:
    """UpdateGame of the display name only, through the gateway."""
    request = cpb.UpdateGameRequest(
        game=cpb.Game(name=name, display_name=display_name),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )
    admin.UpdateGame(request, timeout=DEADLINE)


def display_name(stub: cpb_grpc.CatalogServiceStub, name: str) -> str:
    """What GetGame answers for the game's display name."""
    return stub.GetGame(cpb.GetGameRequest(name=name), timeout=DEADLINE).game.display_name


def cache_hits(gateway: RunningService, method: str) -> float:
    """gateway_cache_lookups_total{result="hit"} of one method on one gateway."""
    return sample(scrape(gateway), "gateway_cache_lookups_total", grpc_method=method, result="hit")


def unique_search(stub: cpb_grpc.CatalogServiceStub) -> Callable[[], object]:
    """A SearchGames that misses every cache (a new query each time), so it reaches the catalog."""
    return lambda: stub.SearchGames(
        cpb.SearchGamesRequest(query=f"miss {uuid.uuid4().hex[:8]}"), timeout=DEADLINE
    )


def failures(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.code is not grpc.StatusCode.OK]


def test_a_write_shows_on_the_next_read_of_the_same_gateway(
    platform_suite: E2ESuite, admin: cpb_grpc.CatalogServiceStub, reader: cpb_grpc.CatalogServiceStub
) -> None:
    gateway = platform_suite.service("gateway")
    wait_following(gateway)
    game = create_game(admin, "Cache One")
    hits = cache_hits(gateway, "GetGame")
    assert display_name(reader, game.name) == "Cache One"
    assert display_name(reader, game.name) == "Cache One"
    assert cache_hits(gateway, "GetGame") > hits, "the repeated read came from the cache"

    rename(admin, game.name, "Cache One, renamed")
    assert display_name(reader, game.name) == "Cache One, renamed"


def test_a_write_through_one_gateway_reaches_the_others_cache(
    platform_suite: E2ESuite,
    admin: cpb_grpc.CatalogServiceStub,
    extra_gateway: Callable[[], RunningService],
) -> None:
    other = extra_gateway()
    through_other = cpb_grpc.CatalogServiceStub(
        platform_suite.channel(platform_suite.target(other), platform_suite.api_key("reader"))
    )
    game = create_game(admin, "Cache Two")
    assert display_name(through_other, game.name) == "Cache Two"
    hits = cache_hits(other, "GetGame")
    assert display_name(through_other, game.name) == "Cache Two"
    assert cache_hits(other, "GetGame") > hits, "the other gateway serves the game from its cache"

    rename(admin, game.name, "Cache Two, renamed")
    written = time.monotonic()
    seen: list[tuple[float, str]] = []

    def changed() -> bool:
        seen.append((time.monotonic() - written, display_name(through_other, game.name)))
        return seen[-1][1] != "Cache Two"

    eventually(changed, timeout=2.0, interval=0.01, what=lambda: f"the other gateway converged: {seen[-3:]}")
    assert seen[-1][1] == "Cache Two, renamed", f"another name: {seen[-3:]}"
    converged = seen[-1][0]
    # Once the new value is out, the old one never comes back (no stale entry under a newer revision).
    after = [display_name(through_other, game.name) for _ in range(50)]
    print(f"the other gateway answered the new name {converged * 1000:.0f} ms after the write")
    assert set(after) == {"Cache Two, renamed"}


def test_the_catalog_restarted_under_load_fails_no_caller(
    platform_suite: E2ESuite, admin: cpb_grpc.CatalogServiceStub, reader: cpb_grpc.CatalogServiceStub
) -> None:
    game = create_game(admin, "Restart Survivor")
    get = lambda: reader.GetGame(cpb.GetGameRequest(name=game.name), timeout=DEADLINE)  # noqa: E731
    catalog = platform_suite.service("catalog")

    with Load([get, unique_search(reader)], threads_per_lane=2, pause=0.02) as load:
        time.sleep(1.0)
        stopping = time.monotonic()
        assert platform_suite.stop_process(catalog) == 0, "the catalog drains and exits 0"
        stopped = time.monotonic()
        catalog = platform_suite.start_again(catalog)
        wait_serving(catalog)
        serving = time.monotonic()
        time.sleep(1.5)
    outcomes = load.stop()

    during = [o for o in outcomes if o.ended > stopping and o.started < serving]
    print(
        f"catalog restart: stop took {stopped - stopping:.2f}s, down {serving - stopped:.2f}s; "
        f"{len(outcomes)} calls, {len(during)} overlapping the restart"
    )
    assert during, "calls were made while the catalog restarted"
    bad = failures(outcomes)
    for o in bad[:10]:
        print(f"  lane {o.lane}: {o.started - stopping:+.2f}s..{o.ended - stopping:+.2f}s {o.details}")
    assert not bad, f"{len(bad)} callers saw errors, first: {bad[0]}"


def test_sigterm_to_a_gateway_under_load_drains_its_calls(
    platform_suite: E2ESuite, extra_gateway: Callable[[], RunningService]
) -> None:
    gateway = extra_gateway()
    stub = cpb_grpc.CatalogServiceStub(
        platform_suite.channel(platform_suite.target(gateway), platform_suite.api_key("reader"))
    )
    catalog = platform_suite.service("catalog").process
    with Load([unique_search(stub)], threads_per_lane=4, pause=0.01) as load:
        time.sleep(1.0)
        # Freeze the catalog so every load thread is certainly inside a call when the signal lands.
        catalog.send_signal(signal.SIGSTOP)
        try:
            time.sleep(0.5)
            gateway.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            time.sleep(0.5)
        finally:
            catalog.send_signal(signal.SIGCONT)
        exit_code = gateway.process.wait(timeout=30)
        time.sleep(0.2)
    outcomes = load.stop()

    before = [o for o in outcomes if o.started < signalled]
    in_flight = [o for o in before if o.ended > signalled]
    print(
        f"gateway SIGTERM: {len(before)} calls started before it, {len(in_flight)} in flight, "
        f"exit code {exit_code}"
    )
    assert exit_code == 0
    assert len(in_flight) == 4, "each load thread had a call in flight at the signal"
    bad = failures(before)
    assert not bad, f"{len(bad)} calls started before SIGTERM failed, first: {bad[0]}"


def test_a_lost_database_reaches_the_caller_as_a_clean_unavailable(
    platform_suite: E2ESuite, reader: cpb_grpc.CatalogServiceStub
) -> None:
    postgres = platform_suite.suite.postgres
    assert postgres is not None, "the suite runs its own embedded PostgreSQL"
    postgres.stop()
    try:
        with pytest.raises(grpc.RpcError) as failed:
            unique_search(reader)()
    finally:
        postgres.start()  # same port and data
    details = error_details(failed.value)
    print(f"database down: {details.code.name} {details.message!r} reason={details.reason}")
    assert details.code is grpc.StatusCode.UNAVAILABLE
    assert details.request_id, "a request id to quote to the operators"
    said = " ".join([details.message, *details.metadata.values()])
    for secret in ("127.0.0.1", str(postgres.port), "SELECT", "psycopg", "sqlalchemy", "Traceback"):
        assert secret.lower() not in said.lower(), f"{secret!r} leaked: {said!r}"
    assert str(platform_suite.root) not in said
    assert "/" not in details.message

    # And the platform comes back by itself once the database does.
    def reads() -> bool:
        try:
            unique_search(reader)()
        except grpc.RpcError:
            return False
        return True

    eventually(reads, timeout=30, interval=0.2, what="reads answered again after PostgreSQL came back")
