"""The Grafana dashboards and Prometheus alert rules the chart embeds, checked as files (no services).

Also the PromQL reading shared with tests/e2e/test_metrics_exported.py: `queries()` lists every expression
the assets run, `selectors()` the metric names (and label matchers) one expression reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "games-platform"
DASHBOARDS = CHART / "dashboards"
ALERTS = CHART / "files" / "alerts.yaml"
OPERATIONS = ROOT / "docs" / "operations.md"
DATASOURCES = ROOT / "deploy" / "grafana" / "datasources.yaml"
COMPONENTS = ("gateway", "catalog", "ingestion")
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


# --- reading PromQL -------------------------------------------------------------------------------

_TOKENS = re.compile(
    r"""
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
    | (?P<braces>\{(?:[^}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*\})
    | (?P<brackets>\[[^\]]*\])
    | (?P<variable>\$\{[^}]*\}|\$\w+)
    | (?P<number>0[xX][0-9a-fA-F]+|\d[\w.]*)
    | (?P<ident>[A-Za-z_:][\w:]*)
    | (?P<open>\()
    | (?P<close>\))
    | (?P<other>\S)
    """,
    re.VERBOSE,
)
_MATCHER = re.compile(r"""([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)""")
# Followed by a parenthesised label list, which holds label names, not metrics.
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_KEYWORDS = _GROUPING | {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
_AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}  # fmt: skip
# Grafana's variable query `label_values(<selector>, <label>)`: only the selector is PromQL.
_LABEL_VALUES = re.compile(
    r"^\s*label_values\(\s*(?P<selector>.*?)\s*(?:,\s*[A-Za-z_]\w*\s*)?\)\s*$", re.DOTALL
)


@dataclass(frozen=True)
class Selector:
    """One metric an expression reads, with its label matchers: label → (operator, value)."""

    name: str
    matchers: dict[str, tuple[str, str]] = field(default_factory=dict)

    def components(self) -> set[str] | None:
        """The components a `component` matcher selects (= or a plain =~ alternation); None: any."""
        op, value = self.matchers.get("component", ("", ""))
        if op == "=":
            return {value}
        if op == "=~" and re.fullmatch(r"[\w|]+", value):
            return set(value.split("|"))
        return None


def _matchers(block: str) -> dict[str, tuple[str, str]]:
    return {label: (op, quoted[1:-1]) for label, op, quoted in _MATCHER.findall(block)}


def selectors(expr: str) -> list[Selector]:
    """The metric selectors of a PromQL expression (or a Grafana `label_values(...)` query).

    Function and aggregation names (a name before "("), keywords, label lists of by/without/on/
    ignoring/group_left/group_right, strings, ranges and Grafana variables are not metrics.
    """
    variable = _LABEL_VALUES.match(expr)
    if variable is not None:
        expr = variable.group("selector")
    tokens = [(m.lastgroup or "", m.group()) for m in _TOKENS.finditer(expr)]
    found: list[Selector] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        next_kind, next_text = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        i += 1
        if kind == "braces":  # a selector without a name before it: {__name__="..."}
            name = _matchers(text).get("__name__", ("", ""))[1]
            if name:
                found.append(Selector(name, _matchers(text)))
            continue
        if kind != "ident":
            continue
        word = text.lower()
        if word in _GROUPING and next_kind == "open":
            depth = 0
            while i < len(tokens):
                depth += {"open": 1, "close": -1}.get(tokens[i][0], 0)
                i += 1
                if depth == 0:
                    break
            continue
        if word in _KEYWORDS or word in _AGGREGATIONS or next_kind == "open":
            continue
        if next_kind == "braces":
            found.append(Selector(text, _matchers(next_text)))
            i += 1
        else:
            found.append(Selector(text))
    return found


# --- the assets -----------------------------------------------------------------------------------


def dashboards() -> dict[str, dict[str, Any]]:
    """Each dashboard file's JSON model, by component (the file's stem)."""
    return {path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


def panels(model: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, inside collapsed rows too."""
    for panel in model.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def alert_rules() -> list[dict[str, Any]]:
    """Every rule of alerts.yaml."""
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def queries() -> list[tuple[str, str]]:
    """(where, PromQL) of every dashboard target, dashboard variable query and alert expression."""
    found: list[tuple[str, str]] = []
    for component, model in dashboards().items():
        for panel in panels(model):
            for target in panel.get("targets", []):
                found.append((f"{component}.json panel {panel['title']!r}", target.get("expr", "")))
        for variable in model["templating"]["list"]:
            if variable["type"] == "query":
                query = variable["query"]
                text = query["query"] if isinstance(query, dict) else query
                found.append((f"{component}.json variable ${variable['name']}", text))
    found += [(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules()]
    return found


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
