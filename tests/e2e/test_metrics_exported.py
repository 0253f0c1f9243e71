"""Every metric the dashboards and alerts query is one the running services really export.

The whole platform runs as `make up` starts it; each service's metrics port is scraped and its metric
names compared with what each dashboard target, dashboard variable and alert expression reads, per
component: a query filtering on component="gateway" must find its metric in the gateway's scrape.
Tracing is on (without an exporter) so latency observations carry exemplars, whose label must be the one
the Grafana data source example sends to Tempo.
"""

from __future__ import annotations

import urllib.request

import pytest
import yaml
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from games.catalog.v1 import catalog_pb2 as cpb
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from tests.e2e.conftest import E2ESuite, metrics_port
from tests.fixtures.dashboards import COMPONENTS, DATASOURCES, queries, selectors
from tests.fixtures.servers import HOST

pytestmark = pytest.mark.slow

# Series Prometheus writes itself, never found in a scrape.
PROMETHEUS_MADE = {"up"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
}


@pytest.fixture(scope="module")
def suite_environ() -> dict[str, str]:
    """Tracing on, with no exporter: spans get ids, so latency observations get exemplars."""
    return {"OTEL_SDK_DISABLED": "false"}


def _get(url: str, accept: str | None = None) -> str:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(response.read().decode())


def exported_names(text: str) -> set[str]:
    """Every series name a scrape offers: families (even with no series yet) and their samples' names."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


@pytest.fixture(scope="module")
def exported(platform_suite: E2ESuite) -> dict[str, set[str]]:
    """component → the metric names its process exports, after one call through the gateway."""
    gateway = platform_suite.service("gateway")
    channel = platform_suite.channel(platform_suite.target(gateway), platform_suite.api_key("reader"))
    cpb_grpc.CatalogServiceStub(channel).SearchGames(cpb.SearchGamesRequest(query="pokemon"), timeout=10)
    return {
        name: exported_names(_get(f"http://{HOST}:{metrics_port(platform_suite.service(name))}/metrics"))
        for name in COMPONENTS
    }


def test_every_queried_metric_is_exported_by_the_component_queried(exported: dict[str, set[str]]) -> None:
    missing: list[str] = []
    checked = 0
    for where, expr in queries():
        for selector in selectors(expr):
            if selector.name in PROMETHEUS_MADE:
                continue
            for component in sorted(selector.components() or set(COMPONENTS)):
                checked += 1
                if selector.name not in exported[component]:
                    missing.append(f"{where}: {selector.name} is not exported by {component}")
    assert not missing, "queried but not exported:\n" + "\n".join(sorted(set(missing)))
    assert checked > 80, "the queries were not read"


def test_the_new_figures_are_exported_everywhere(exported: dict[str, set[str]]) -> None:
    for component in COMPONENTS:
        assert "tls_certificate_expiry_timestamp_seconds" in exported[component], component
    assert "ingestion_last_success_timestamp_seconds" in exported["ingestion"]


def test_latency_exemplars_carry_the_label_grafana_sends_to_tempo(
    platform_suite: E2ESuite, exported: dict[str, set[str]]
) -> None:
    destinations = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]["jsonData"]
    wanted = {d["name"] for d in destinations["exemplarTraceIdDestinations"]}
    for component in ("gateway", "catalog"):  # the SearchGames call went through both
        port = metrics_port(platform_suite.service(component))
        text = _get(f"http://{HOST}:{port}/metrics", accept="application/openmetrics-text; version=1.0.0")
        exemplars = [
            sample.exemplar
            for family in openmetrics_families(text)
            if family.name == "grpc_server_handling_seconds"
            for sample in family.samples
            if sample.exemplar is not None
        ]
        assert exemplars, f"{component} exposes no latency exemplar"
        for exemplar in exemplars:
            assert set(exemplar.labels) == wanted, f"{component}: {exemplar.labels}"
            assert len(exemplar.labels[next(iter(wanted))]) == 32  # a W3C trace id in hex
