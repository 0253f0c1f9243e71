"""What SREs see, proven with a real Prometheus (`make check-monitoring`; needs `prometheus` on PATH).

The suite starts as `GAMECTL_PROMETHEUS=1 make up` starts it: Debian's Prometheus scrapes every
service with the labels the chart's ServiceMonitors give, the chart's alert rules loaded, exemplar
storage on; the services export traces to this module's OTLP receiver. A short day in the platform's
life is played: reads and writes, unknown and unauthorised callers, a rate-limited burst, a delivery
with a repaired and a quarantined record, a rejected delivery (its run fails and the webhook is
called), and the catalog stopped for a while, then started again. Then, through Prometheus' API:

- every query of every dashboard panel, with the dashboard's variables filled in, returns a series;
- the alerts the day should raise are pending or firing, and no other alert ever is;
- the gateway's latency exemplars carry trace ids that the receiver holds as traces, one of which
  runs from the gateway through the catalog to PostgreSQL.

Not part of `make test` (tests/conftest.py leaves this folder out unless GAMES_CHECK_MONITORING=1):
Prometheus is a Debian package `make check-monitoring` installs, not a Python dependency.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from gamectl.suite import LOCAL_BUCKET
from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from games.ingestion.v1 import ingestion_pb2 as ipb
from games.ingestion.v1 import ingestion_pb2_grpc as ipb_grpc
from tests.e2e.conftest import E2ESuite
from tests.e2e.traces import connected_trace
from tests.factories.deliveries import app, chart_groups, delivery
from tests.fixtures.eventually import eventually
from tests.fixtures.otlp import OtlpReceiver, exporting_to
from tests.fixtures.prometheus_api import PrometheusApi
from tests.fixtures.servers import wait_serving
from tests.fixtures.webhook import Webhook

DASHBOARDS = Path(__file__).resolve().parents[3] / "charts" / "games-platform" / "dashboards"
NAMESPACE = "local"  # gamectl.prometheuslocal's namespace label
RATE_INTERVAL = "1m"  # Grafana's $__rate_interval for a 2 s scrape is 4 scrapes at least; wider is safer
# What the day raises, by (alert, component or file); each must be pending or firing when looked for.
DURING_OUTAGE = {("ServiceDown", "catalog"), ("GrpcErrorRatioHigh", "gateway")}
AFTER = {
    ("IngestionFileRejected", ""),
    ("IngestionQuarantineHigh", "ios.top100.json"),
    ("IngestionQuarantineHigh", "android.top100.json"),
    ("RateLimitSaturated", ""),
}
EXPECTED = DURING_OUTAGE | AFTER
# Raised when the outage's calls wait out their deadlines (1 s) rather than fail at once: allowed.
MAY_RAISE = {("GrpcLatencyP99High", "gateway")}
WAIT_SECONDS = 90.0


@dataclass
class Day:
    """What the scenario saw: every alert Prometheus held at each look, by (name, component or file)."""

    prometheus: PrometheusApi
    seen: set[tuple[str, str]] = field(default_factory=set)

    def alerts_now(self) -> set[tuple[str, str]]:
        """The pending or firing alerts, each remembered in `seen`."""
        now = {
            (a.name, a.labels.get("component", a.labels.get("file", ""))) for a in self.prometheus.alerts()
        }
        self.seen |= now
        return now

    def wait_for_alerts(self, wanted: set[tuple[str, str]]) -> None:
        eventually(
            lambda: wanted <= self.alerts_now(),
            timeout=WAIT_SECONDS,
            interval=1,
            what=lambda: f"alerts {wanted - self.seen} raised; rules: {self.prometheus.rule_states()}",
        )


@pytest.fixture(scope="module")
def run_failure_hook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture(scope="module")
def suite_environ(receiver: OtlpReceiver, run_failure_hook: Webhook) -> dict[str, str]:
    return {
        "GAMECTL_PROMETHEUS": "1",
        **exporting_to(receiver),
        "INGESTION_ALERT_WEBHOOK_URL": run_failure_hook.url,
        # As the chart runs a gateway pod given two cores: its metrics, exemplars included, come through
        # the supervisor's one port with a `worker` label (gamekit.observability.metrics_fanin).
        "GATEWAY_PROCESSES": "2",
    }


def calls_ok(call: Callable[[], object], times: int) -> None:
    for _ in range(times):
        call()


def refused(call: Callable[[], object]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value.code()  # type: ignore[no-any-return]


def upload(suite: E2ESuite, key: str, data: bytes) -> None:
    assert suite.suite.s3 is not None
    with contextlib.closing(suite.suite.s3.s3_client()) as s3:
        s3.put_object(Bucket=LOCAL_BUCKET, Key=key, Body=data)


def run_ingestion(ingestion: ipb_grpc.IngestionServiceStub) -> int:
    """One RunIngestion, followed until it ends; its state."""
    name = ingestion.RunIngestion(ipb.RunIngestionRequest(), timeout=30).run.name

    def state() -> int:
        run = ingestion.GetRun(ipb.GetRunRequest(name=name), timeout=10).run
        return 0 if run.state == ipb.RUN_STATE_RUNNING else int(run.state)

    return eventually(state, timeout=WAIT_SECONDS, interval=0.5, what=f"{name} ended")


def traffic(suite: E2ESuite) -> None:
    """Reads and writes of every kind through the gateway, and callers the gateway turns away."""
    gateway = suite.target(suite.service("gateway"))
    admin = suite.channel(gateway, suite.api_key("admin"))
    catalog = cpb_grpc.CatalogServiceStub(admin)
    game = cpb.Game(display_name="Monitoring Quest", platform=cpb.PLATFORM_IOS, store_id=uuid.uuid4().hex)
    created = catalog.CreateGame(
        cpb.CreateGameRequest(game=game, request_id=str(uuid.uuid4())), timeout=10
    ).game
    calls_ok(lambda: catalog.GetGame(cpb.GetGameRequest(name=created.name), timeout=10), 20)
    calls_ok(lambda: catalog.SearchGames(cpb.SearchGamesRequest(query="quest"), timeout=10), 20)
    calls_ok(lambda: catalog.ListGames(cpb.ListGamesRequest(page_size=5), timeout=10), 10)
    assert refused(lambda: catalog.GetGame(cpb.GetGameRequest(name="games/999999999"), timeout=10)) == (
        grpc.StatusCode.NOT_FOUND
    )
    ingestion = ipb_grpc.IngestionServiceStub(admin)
    assert refused(lambda: ingestion.GetRun(ipb.GetRunRequest(name="runs/999999"), timeout=10)) == (
        grpc.StatusCode.NOT_FOUND
    )
    reader = ipb_grpc.IngestionServiceStub(suite.channel(gateway, suite.api_key("reader")))
    assert refused(lambda: reader.RunIngestion(ipb.RunIngestionRequest(), timeout=10)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    stranger = cpb_grpc.CatalogServiceStub(suite.channel(gateway, "gk_unknown.not-a-key"))
    assert refused(lambda: stranger.ListGames(cpb.ListGamesRequest(), timeout=10)) == (
        grpc.StatusCode.UNAUTHENTICATED
    )


def burst(suite: E2ESuite) -> None:
    """A caller far over its rate: most of 1,500 calls in a few seconds are refused.

    A few calls first, then a scrape: the rejected-decisions series exists before the burst, so the
    burst is all increase (rate() cannot count what a series held at its first sample). RateLimitSaturated
    needs more than one decision a second over its 5-minute window.
    """
    key = suite.add_key("bursty", ["games.read"], rps=1, burst=1)
    time.sleep(3)  # the gateway re-reads its keys file every 2 s
    catalog = cpb_grpc.CatalogServiceStub(suite.channel(suite.target(suite.service("gateway")), key))

    def calls(count: int) -> list[grpc.StatusCode]:
        codes = []
        for _ in range(count):
            try:
                catalog.ListGames(cpb.ListGamesRequest(page_size=1), timeout=10)
                codes.append(grpc.StatusCode.OK)
            except grpc.RpcError as error:
                codes.append(error.code())
        return codes

    assert grpc.StatusCode.RESOURCE_EXHAUSTED in calls(3)
    time.sleep(3)
    assert calls(1500).count(grpc.StatusCode.RESOURCE_EXHAUSTED) > 1400


def file_state(ingestion: ipb_grpc.IngestionServiceStub, key: str) -> int:
    """The ledger's state of `key` once its S3 event has been handled (IMPORTED or REJECTED)."""

    def settled() -> int:
        files = ingestion.ListFiles(ipb.ListFilesRequest(page_size=100), timeout=10).files
        states = [int(f.state) for f in files if f.key == key]
        done = (ipb.FILE_STATE_IMPORTED, ipb.FILE_STATE_REJECTED)
        return states[0] if states and states[0] in done else 0

    return eventually(settled, timeout=WAIT_SECONDS, interval=0.5, what=f"{key} ingested from its S3 event")


def deliveries(suite: E2ESuite) -> None:
    """The samples by RunIngestion; then, by their S3 events, a delivery with a repaired and a quarantined
    record (imported), and one mostly broken (rejected: its run fails and calls the webhook)."""
    admin = suite.channel(suite.target(suite.service("gateway")), suite.api_key("admin"))
    ingestion = ipb_grpc.IngestionServiceStub(admin)
    assert run_ingestion(ingestion) == ipb.RUN_STATE_SUCCEEDED
    groups: list[list[object]] = [list(g) for g in chart_groups(30)]
    groups.append([app(900, name="Pok\udc8emon GO", rank=31), app(901, app_id=None, rank=31)])
    upload(suite, "2026-12-05/ios.top100.json", delivery(groups))
    assert file_state(ingestion, "2026-12-05/ios.top100.json") == ipb.FILE_STATE_IMPORTED
    broken: list[list[object]] = [[app(n, "android", rank=1) for n in range(10)]]
    broken.append([app(n, "android", app_id=None, rank=2) for n in range(10, 15)])
    upload(suite, "2026-12-05/android.top100.json", delivery(broken))
    assert file_state(ingestion, "2026-12-05/android.top100.json") == ipb.FILE_STATE_REJECTED


def outage(suite: E2ESuite, day: Day) -> None:
    """The catalog stopped: callers get UNAVAILABLE until it is back, and the alerts say so."""
    catalog = suite.service("catalog")
    suite.stop_process(catalog)
    reader = cpb_grpc.CatalogServiceStub(
        suite.channel(suite.target(suite.service("gateway")), suite.api_key("reader"))
    )

    def search(_: int) -> None:
        with contextlib.suppress(grpc.RpcError):  # a query never asked before: no cached answer
            reader.SearchGames(cpb.SearchGamesRequest(query=f"outage {uuid.uuid4().hex}"), timeout=1)

    deadline = time.monotonic() + WAIT_SECONDS
    with ThreadPoolExecutor(8) as callers:
        while not day.alerts_now() >= DURING_OUTAGE:
            missing = DURING_OUTAGE - day.seen
            assert time.monotonic() < deadline, f"{missing} not raised; rules: {day.prometheus.rule_states()}"
            list(callers.map(search, range(40)))
    wait_serving(suite.start_again(catalog))
    # Every gateway process follows the catalog again (and so answers): as Prometheus sees it.
    eventually(
        lambda: day.prometheus.query('min(gateway_revision_watch_up{component="gateway"}) == 1'),
        timeout=WAIT_SECONDS,
        interval=0.5,
        what="the gateway following the catalog again",
    )


@pytest.fixture(scope="module")
def day(platform_suite: E2ESuite, run_failure_hook: Webhook) -> Day:
    """The scenario, played once for the module."""
    observed = Day(PrometheusApi(str(platform_suite.info["prometheus"])))
    traffic(platform_suite)
    deliveries(platform_suite)
    # The run ends, then calls the webhook.
    eventually(run_failure_hook.payloads, timeout=WAIT_SECONDS, what="the failed run calling the webhook")
    outage(platform_suite, observed)
    burst(platform_suite)  # after the outage: its refusals would dilute the outage's error ratio
    traffic(platform_suite)  # every panel's rate has recent calls
    observed.wait_for_alerts(AFTER)
    time.sleep(6)  # three more scrapes of the services that were just called
    return observed


def panel_queries() -> Iterator[tuple[str, str, str]]:
    """(dashboard, panel title, PromQL) of every panel target, variables filled in as Grafana would."""
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text())
        stack = list(board["panels"])
        while stack:
            panel = stack.pop(0)
            stack += panel.get("panels", [])
            for target in panel.get("targets", []):
                expr = (
                    target["expr"].replace("$namespace", NAMESPACE).replace("$__rate_interval", RATE_INTERVAL)
                )
                yield path.stem, panel["title"], expr


def test_every_dashboard_query_returns_data(day: Day) -> None:
    empty = [
        f"{board}: {title}: {expr}"
        for board, title, expr in panel_queries()
        if not day.prometheus.query(expr)
    ]
    assert not empty, "panels without data:\n" + "\n".join(empty)


def test_the_dashboards_namespace_variable_finds_the_suite(day: Day) -> None:
    for component in ("gateway", "catalog", "ingestion"):
        found = day.prometheus.query(f'count by (namespace) (up{{component="{component}"}})')
        assert [s["metric"]["namespace"] for s in found] == [NAMESPACE]


def test_the_alerts_the_day_raised_and_no_other(day: Day) -> None:
    day.alerts_now()
    assert day.seen - EXPECTED - MAY_RAISE == set(), "alerts nobody expected"
    assert day.seen >= EXPECTED


def test_each_gateway_process_is_a_series_of_its_own(day: Day) -> None:
    found = day.prometheus.query('count by (worker) (grpc_server_handled_total{component="gateway"})')
    assert sorted(s["metric"]["worker"] for s in found) == ["0", "1"]


def test_gateway_latency_exemplars_lead_to_traces_through_catalog_and_database(
    day: Day, receiver: OtlpReceiver
) -> None:
    exemplars = day.prometheus.exemplars('grpc_server_handling_seconds_bucket{component="gateway"}')
    trace_ids = {e["labels"]["trace_id"] for e in exemplars}
    assert trace_ids, "the gateway's latency histogram has no exemplars"
    received = {s.trace_id for s in receiver.spans()}
    assert trace_ids <= received, "exemplars whose traces never arrived"
    assert any(connected_trace(receiver.spans(), trace_id) for trace_id in trace_ids)
