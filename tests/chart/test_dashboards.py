"""The Grafana dashboards and Prometheus alert rules the chart embeds, checked as files (no services).

They are read, and their PromQL parsed, by tests/fixtures/dashboards.py, which the end-to-end tests share.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.dashboards import (
    ALERTS,
    COMPONENTS,
    DASHBOARDS,
    DATASOURCES,
    ROOT,
    alert_rules,
    dashboards,
    panels,
    selectors,
)

OPERATIONS = ROOT / "docs" / "operations.md"
EXPECTED_ALERTS = {
    "IngestionStale",
    "IngestionFileRejected",
    "IngestionQuarantineHigh",
    "GrpcErrorRatioHigh",
    "GrpcLatencyP99High",
    "ServiceDown",
    "RateLimitSaturated",
    "RateLimitRedisFallback",
    "CertificateExpiringSoon",
}
DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}


# --- the runbook ----------------------------------------------------------------------------------


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def operations_anchors() -> set[str]:
    """The anchors of every heading of docs/operations.md."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", OPERATIONS.read_text(), flags=re.MULTILINE)
    return {github_anchor(h) for h in headings}


# --- the PromQL reader itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (grpc_method) (rate(a_total{x="y", z=~"$ns"}[$__rate_interval]))', ["a_total"]),
        ("sum(rate(a_total[5m])) by (le) / ignoring (code) group_left sum(b)", ["a_total", "b"]),
        ('histogram_quantile(0.99, sum by (le) (rate(h_bucket{q="a}b"}[1h]))) > 1e3', ["h_bucket"]),
        ('time() - max(g{c="x"} > 0) > 26 * 3600 or x and on (namespace) y offset 5m', ["g", "x", "y"]),
        ('label_values(up{component="gateway"}, namespace)', ["up"]),
        ('{__name__="n", a="b"} unless bool c', ["n", "c"]),
    ],
)
def test_selectors_are_the_metric_names(expr: str, names: list[str]) -> None:
    assert [s.name for s in selectors(expr)] == names


def test_selectors_know_the_components_they_filter_on() -> None:
    one, many, other = selectors(
        'a{component="gateway"} + b{component=~"catalog|ingestion"} + c{component=~".+"}'
    )
    assert (one.components(), many.components(), other.components()) == (
        {"gateway"},
        {"catalog", "ingestion"},
        None,
    )


# --- dashboards -----------------------------------------------------------------------------------


def test_one_dashboard_per_component_with_unique_stable_uids() -> None:
    models = dashboards()
    assert set(models) == set(COMPONENTS)
    uids = [model["uid"] for model in models.values()]
    assert len(set(uids)) == len(uids)
    for component, model in models.items():
        assert model["uid"] == f"games-{component}"
        assert "games-platform" in model["tags"]
        assert model["schemaVersion"] >= 36
        assert model.get("id") is None, "a provisioned dashboard must not carry a database id"


def test_dashboards_pick_prometheus_through_a_variable_and_filter_by_namespace() -> None:
    for component, model in dashboards().items():
        variables = {v["name"]: v for v in model["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        assert variables["namespace"]["type"] == "query", component
        assert variables["namespace"]["datasource"] == DATASOURCE_REF


def _datasources(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            yield from _datasources(value)
    elif isinstance(node, list):
        for item in node:
            yield from _datasources(item)


def test_no_hard_coded_datasource_uid() -> None:
    for component, model in dashboards().items():
        for ref in _datasources(model):
            if isinstance(ref, dict) and ref.get("type") == "grafana":
                continue  # the built-in annotations source
            assert ref == DATASOURCE_REF, f"{component}.json: {ref}"


def test_every_panel_target_queries_its_own_component_and_namespace() -> None:
    for component, model in dashboards().items():
        ids = [panel["id"] for panel in panels(model)]
        assert len(set(ids)) == len(ids), f"{component}.json repeats a panel id"
        for panel in panels(model):
            if panel["type"] == "row":
                continue
            where = f"{component}.json panel {panel['title']!r}"
            assert panel["datasource"] == DATASOURCE_REF, where
            assert panel["targets"], f"{where} has no target"
            for target in panel["targets"]:
                assert target.get("expr", "").strip(), f"{where} has a target without expr"
                assert target["datasource"] == DATASOURCE_REF, where
                found = selectors(target["expr"])
                assert found, f"{where} reads no metric: {target['expr']}"
                for selector in found:
                    assert selector.matchers.get("component") == ("=", component), f"{where}: {selector}"
                    assert selector.matchers.get("namespace") == ("=~", "$namespace"), f"{where}: {selector}"


def test_latency_targets_show_exemplars() -> None:
    latency = [
        (component, panel["title"], target)
        for component, model in dashboards().items()
        for panel in panels(model)
        for target in panel.get("targets", [])
        if "grpc_server_handling_seconds_bucket" in target["expr"]
        and "by (grpc_method, le)" in target["expr"]
    ]
    assert len(latency) == 3 * len(COMPONENTS)  # p50, p95, p99 of each
    for component, title, target in latency:
        assert target["exemplar"] is True, f"{component}.json {title!r} {target['refId']}"


def test_each_dashboard_covers_its_figures() -> None:
    read = {
        component: {
            s.name for panel in panels(model) for t in panel.get("targets", []) for s in selectors(t["expr"])
        }
        for component, model in dashboards().items()
    }
    common = {
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_bucket",
        "grpc_server_in_flight",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "tls_certificate_expiry_timestamp_seconds",
    }
    gateway = {
        "gateway_cache_lookups_total",
        "gateway_cache_entries",
        "gateway_cache_bytes",
        "gateway_revision_watch_up",
        "gateway_ratelimit_decisions_total",
        "gateway_ratelimit_fallback_total",
        "gateway_ratelimit_backend",
        "gateway_auth_denied_total",
    }
    ingestion = {
        "ingestion_files_total",
        "ingestion_files_rejected_total",
        "ingestion_file_quarantine_ratio",
        "ingestion_records_total",
        "ingestion_run_duration_seconds_bucket",
        "ingestion_last_success_timestamp_seconds",
        "ingestion_sqs_messages_total",
    }
    assert common | gateway <= read["gateway"]
    assert common <= read["catalog"]
    assert common | ingestion <= read["ingestion"]
    # The hit ratio comes from the lookups counter, not from the since-start gauge.
    assert "gateway_cache_hit_ratio" not in read["gateway"]


# --- alerts ---------------------------------------------------------------------------------------


def test_alert_rules_parse_as_a_plain_rules_file() -> None:
    text = ALERTS.read_text()
    document = yaml.safe_load(text)
    assert set(document) == {"groups"}
    assert not re.search(r"\{\{-?\s*(\.|include|template|toYaml)", text), "Helm templating in a verbatim file"
    names = [rule["alert"] for rule in alert_rules()]
    assert len(set(names)) == len(names)
    assert set(names) == EXPECTED_ALERTS


def test_every_alert_says_how_bad_what_and_where_to_read_more() -> None:
    anchors = operations_anchors()
    for rule in alert_rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        annotations = rule["annotations"]
        assert annotations["summary"].strip(), name
        assert annotations["description"].strip(), name
        url = annotations["runbook_url"]
        page, _, anchor = url.partition("#")
        assert page.endswith("docs/operations.md"), url
        assert anchor == name.lower(), url
        assert anchor in anchors, f"docs/operations.md has no heading for #{anchor}"
        assert rule.get("for"), name
        assert selectors(rule["expr"]), name


def test_alerts_filter_by_component() -> None:
    for rule in alert_rules():
        for selector in selectors(rule["expr"]):
            assert selector.components() is not None, (
                f"{rule['alert']}: {selector.name} has no component matcher"
            )


# --- deploy/ links and the datasources example ------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "target"),
    [
        (ROOT / "deploy" / "grafana" / "dashboards", DASHBOARDS),
        (ROOT / "deploy" / "prometheus" / "alerts.yaml", ALERTS),
    ],
)
def test_deploy_links_point_into_the_chart(link: Path, target: Path) -> None:
    assert link.is_symlink(), f"{link} should be a link, so the chart's copy stays the only one"
    assert not Path(link.readlink()).is_absolute(), f"{link} should be a relative link"
    assert link.resolve() == target.resolve()


def test_datasources_link_exemplars_to_tempo_and_back() -> None:
    sources = {source["uid"]: source for source in yaml.safe_load(DATASOURCES.read_text())["datasources"]}
    prometheus, tempo = sources["prometheus"], sources["tempo"]
    assert (prometheus["type"], tempo["type"]) == ("prometheus", "tempo")
    destinations = prometheus["jsonData"]["exemplarTraceIdDestinations"]
    # The label gamekit's interceptor puts the trace id under (checked on a real scrape in tests/e2e).
    assert [(d["name"], d["datasourceUid"]) for d in destinations] == [("trace_id", "tempo")]
    assert tempo["jsonData"]["tracesToMetrics"]["datasourceUid"] == "prometheus"
    assert tempo["jsonData"]["serviceMap"]["datasourceUid"] == "prometheus"
    for query in tempo["jsonData"]["tracesToMetrics"]["queries"]:
        assert selectors(query["query"].replace("$$", "$")), query["name"]
