"""Who may talk to whom, worked out from the rendered NetworkPolicies as Kubernetes would.

`allowed(source, target, port)` applies the NetworkPolicy rules for pods: traffic is allowed when
no policy selects the pod for that direction, or when some selecting policy has a rule whose peers
and ports match. Both the sender's egress and the receiver's ingress must allow it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from tests.chart.rendering import NAMESPACE, Rendered, component_name, pod_labels, render
from tests.chart.scenarios import SCENARIOS

Pod = dict[str, Any]  # {"labels": {...}, "namespace": str, "namespace_labels": {...}, "ip": str}
OUTSIDE = "203.0.113.7"


def _matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def _peer_matches(peer: dict[str, Any], pod: Pod) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        if not pod["ip"]:
            return False
        ip = ipaddress.ip_address(pod["ip"])
        excepted = any(ip in ipaddress.ip_network(cidr) for cidr in block.get("except", []))
        return ip in ipaddress.ip_network(block["cidr"]) and not excepted
    if "namespaceSelector" in peer:
        if not _matches(peer["namespaceSelector"], pod["namespace_labels"]):
            return False
    elif pod["namespace"] != NAMESPACE:
        return False
    return _matches(peer.get("podSelector"), pod["labels"])


def _rule_allows(rule: dict[str, Any], peers_key: str, other: Pod, port: int) -> bool:
    ports = rule.get("ports")
    if ports and not any(p["port"] == port for p in ports):
        return False
    peers = rule.get(peers_key)
    return not peers or any(_peer_matches(peer, other) for peer in peers)


def _direction_allows(rendered: Rendered, pod: Pod, direction: str, other: Pod, port: int) -> bool:
    if pod["namespace"] != NAMESPACE:
        return True
    peers_key = "from" if direction == "Ingress" else "to"
    selecting = [
        p["spec"]
        for p in rendered.of_kind("NetworkPolicy")
        if direction in p["spec"]["policyTypes"] and _matches(p["spec"]["podSelector"], pod["labels"])
    ]
    if not selecting:
        return True
    rules_key = direction.lower()
    return any(
        _rule_allows(rule, peers_key, other, port) for spec in selecting for rule in spec.get(rules_key, [])
    )


def allowed(rendered: Rendered, source: Pod, target: Pod, port: int) -> bool:
    return _direction_allows(rendered, source, "Egress", target, port) and _direction_allows(
        rendered, target, "Ingress", source, port
    )


def chart_pod(rendered: Rendered, kind: str, component: str) -> Pod:
    labels = pod_labels(rendered.get(kind, component_name(component)))
    return {"labels": labels, "namespace": NAMESPACE, "namespace_labels": {}, "ip": ""}


def foreign_pod(namespace: str = "other", labels: dict[str, str] | None = None) -> Pod:
    return {
        "labels": labels or {"app": "someone-else"},
        "namespace": namespace,
        "namespace_labels": {"kubernetes.io/metadata.name": namespace},
        "ip": "",
    }


def outside(ip: str = OUTSIDE) -> Pod:
    return {"labels": {}, "namespace": "", "namespace_labels": {}, "ip": ip}


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    return render(SCENARIOS["every-option-on"])


@pytest.fixture(scope="module")
def pods(rendered: Rendered) -> dict[str, Pod]:
    return {
        "gateway": chart_pod(rendered, "Deployment", "gateway"),
        "catalog": chart_pod(rendered, "Deployment", "catalog"),
        "ingestion": chart_pod(rendered, "Deployment", "ingestion"),
        "run": chart_pod(rendered, "CronJob", "ingestion-run"),
        "migrate": chart_pod(rendered, "Job", "migrate"),
        "stranger": foreign_pod(NAMESPACE),
    }


def test_only_the_gateway_and_ingestion_reach_the_catalog_grpc_port(rendered, pods):
    catalog = pods["catalog"]
    for caller in ("gateway", "ingestion", "run"):
        assert allowed(rendered, pods[caller], catalog, 50061), caller
    for caller in ("migrate", "stranger"):
        assert not allowed(rendered, pods[caller], catalog, 50061), caller
    assert not allowed(rendered, foreign_pod(), catalog, 50061)


def test_only_the_gateway_reaches_ingestion_grpc_port(rendered, pods):
    assert allowed(rendered, pods["gateway"], pods["ingestion"], 50071)
    for caller in ("catalog", "run", "stranger"):
        assert not allowed(rendered, pods[caller], pods["ingestion"], 50071), caller


def test_anyone_may_call_the_gateway_unless_values_narrow_it(rendered, pods):
    assert allowed(rendered, foreign_pod(), pods["gateway"], 50051)
    narrowed = render(SCENARIOS["production"])
    gateway = chart_pod(narrowed, "Deployment", "gateway")
    caller = foreign_pod("shop")
    caller["namespace_labels"]["games-platform/caller"] = "true"
    assert allowed(narrowed, caller, gateway, 50051)
    assert not allowed(narrowed, foreign_pod("shop"), gateway, 50051)


def test_health_ports_answer_probes_and_the_test_pod(rendered, pods):
    for service, port in (("gateway", 50052), ("catalog", 50062), ("ingestion", 50072)):
        assert allowed(rendered, foreign_pod(NAMESPACE, {"role": "helm-test"}), pods[service], port)


def test_everyone_reaches_dns_and_the_named_collector(rendered, pods):
    dns = foreign_pod("kube-system", {"k8s-app": "kube-dns"})
    collector = foreign_pod("observability", {"app.kubernetes.io/name": "opentelemetry-collector"})
    for name in ("gateway", "catalog", "ingestion", "run", "migrate"):
        assert allowed(rendered, pods[name], dns, 53), name
        assert not allowed(rendered, pods[name], foreign_pod("kube-system"), 53), name
        assert not allowed(rendered, pods[name], outside(), 53), name
    for name in ("gateway", "catalog", "ingestion", "run"):
        assert allowed(rendered, pods[name], collector, 4317), name
        assert not allowed(rendered, pods[name], foreign_pod("observability"), 4317), name
        assert not allowed(rendered, pods[name], outside(), 4317), name


def test_external_dependencies_only_for_those_that_use_them(rendered, pods):
    database = outside("198.51.100.5")
    for name in ("catalog", "ingestion", "run", "migrate"):
        assert allowed(rendered, pods[name], database, 5432), name
        assert not allowed(rendered, pods[name], outside(), 5432), name
    assert not allowed(rendered, pods["gateway"], database, 5432)
    redis = foreign_pod("redis")
    assert allowed(rendered, pods["gateway"], redis, 6379)
    assert not allowed(rendered, pods["gateway"], outside(), 6379)
    assert not allowed(rendered, pods["catalog"], redis, 6379)
    for name in ("ingestion", "run"):
        assert allowed(rendered, pods[name], outside(), 443), name
        assert not allowed(rendered, pods[name], outside("10.1.2.3"), 443), name
    for name in ("gateway", "catalog", "migrate"):
        assert not allowed(rendered, pods[name], outside(), 443), name


def test_gateway_has_no_redis_egress_without_redis():
    rendered = render({})
    gateway = chart_pod(rendered, "Deployment", "gateway")
    assert not allowed(rendered, gateway, outside(), 6379)


def test_production_database_egress_is_limited_to_its_network():
    rendered = render(SCENARIOS["production"])
    catalog = chart_pod(rendered, "Deployment", "catalog")
    assert not allowed(rendered, catalog, outside(), 5432)
    assert allowed(rendered, catalog, outside("10.20.3.4"), 5432)


DEPENDENCY_PORTS = {"database": (5432,), "redis": (6379,), "s3": (443,), "otlp": (4317, 4318)}
METRICS_PORTS = {"gateway": 9451, "catalog": 9461, "ingestion": 9471}
CHART_PODS = (
    ("Deployment", "gateway"),
    ("Deployment", "catalog"),
    ("Deployment", "ingestion"),
    ("CronJob", "ingestion-run"),
    ("Job", "migrate"),
)
# Redis and the collector are dialled only when configured: these values use every dependency, naming no
# destination for any of them.
USING_EVERYTHING = {
    "gateway": {"redis": {"url": "redis://redis:6379/0"}},
    "telemetry": {"otlpEndpoint": "http://collector:4317"},
}
KUBE_DNS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
}


@pytest.mark.parametrize("scenario", [*SCENARIOS, "using-everything"])
def test_no_egress_rule_goes_to_any_address(scenario):
    values = USING_EVERYTHING if scenario == "using-everything" else SCENARIOS[scenario]
    for policy in render(values).of_kind("NetworkPolicy"):
        for rule in policy["spec"]["egress"]:
            assert rule.get("to"), f"{policy['metadata']['name']} may send anywhere on {rule['ports']}"


def test_without_named_destinations_no_pod_reaches_a_dependency():
    rendered = render(USING_EVERYTHING)
    anywhere = (outside(), outside("10.20.3.4"), foreign_pod("db"), foreign_pod(NAMESPACE))
    for kind, component in CHART_PODS:
        pod = chart_pod(rendered, kind, component)
        for dependency, ports in DEPENDENCY_PORTS.items():
            for port in ports:
                for target in anywhere:
                    assert not allowed(rendered, pod, target, port), (component, dependency, target)


def test_dns_stays_open_to_kube_dns_alone_without_destinations():
    rendered = render({})
    for kind, component in CHART_PODS:
        pod = chart_pod(rendered, kind, component)
        assert allowed(rendered, pod, foreign_pod("kube-system", {"k8s-app": "kube-dns"}), 53), component
        assert not allowed(rendered, pod, outside(), 53), component
    policy = rendered.get("NetworkPolicy", component_name("migrate"))
    assert policy["spec"]["egress"] == [KUBE_DNS]


def test_a_named_cidr_is_the_one_destination_of_its_rule():
    network = {"ipBlock": {"cidr": "10.20.0.0/16"}}
    rendered = render({"networkPolicy": {"egress": {"database": {"to": [network]}}}})
    policy = rendered.get("NetworkPolicy", component_name("catalog"))
    to_database = {"ports": [{"port": 5432, "protocol": "TCP"}], "to": [network]}
    assert policy["spec"]["egress"] == [KUBE_DNS, to_database]
    catalog = chart_pod(rendered, "Deployment", "catalog")
    assert allowed(rendered, catalog, outside("10.20.3.4"), 5432)
    assert not allowed(rendered, catalog, outside("10.21.0.1"), 5432)


def test_named_selectors_are_the_destination_of_their_rule():
    redis = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "redis"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "redis"}},
    }
    values = {**USING_EVERYTHING, "networkPolicy": {"egress": {"redis": {"to": [redis]}}}}
    rendered = render(values)
    rules = rendered.get("NetworkPolicy", component_name("gateway"))["spec"]["egress"]
    assert [r for r in rules if r["ports"] == [{"port": 6379, "protocol": "TCP"}]] == [
        {"ports": [{"port": 6379, "protocol": "TCP"}], "to": [redis]}
    ]
    gateway = chart_pod(rendered, "Deployment", "gateway")
    assert allowed(rendered, gateway, foreign_pod("redis", {"app.kubernetes.io/name": "redis"}), 6379)
    assert not allowed(rendered, gateway, foreign_pod("redis"), 6379)
    assert not allowed(rendered, gateway, foreign_pod("cache", {"app.kubernetes.io/name": "redis"}), 6379)


def test_metrics_ports_are_closed_until_values_name_the_scrapers():
    rendered = render({})
    prometheus = foreign_pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    scrapers = (prometheus, foreign_pod(NAMESPACE), outside())
    for service, port in METRICS_PORTS.items():
        pod = chart_pod(rendered, "Deployment", service)
        for scraper in scrapers:
            assert not allowed(rendered, scraper, pod, port), (service, scraper)


def test_metrics_ports_open_to_the_named_scrapers_alone(rendered):
    named = SCENARIOS["every-option-on"]["networkPolicy"]["metricsFrom"]
    prometheus = foreign_pod("monitoring", {"app.kubernetes.io/name": "prometheus"})
    for service, port in METRICS_PORTS.items():
        ingress = rendered.get("NetworkPolicy", component_name(service))["spec"]["ingress"]
        assert [r for r in ingress if r["ports"] == [{"port": port, "protocol": "TCP"}]] == [
            {"ports": [{"port": port, "protocol": "TCP"}], "from": named}
        ]
        pod = chart_pod(rendered, "Deployment", service)
        assert allowed(rendered, prometheus, pod, port), service
        for stranger in (foreign_pod("monitoring"), foreign_pod(NAMESPACE), outside()):
            assert not allowed(rendered, stranger, pod, port), (service, stranger)


def _lines_naming(notes: str, key: str) -> list[str]:
    return [line for line in notes.splitlines() if key in line]


def test_notes_say_each_missing_destination_on_its_own_line():
    notes = render(USING_EVERYTHING).notes
    for dependency in DEPENDENCY_PORTS:
        (line,) = _lines_naming(notes, f"networkPolicy.egress.{dependency}.to")
        assert line.startswith("WARNING: "), line
    (line,) = _lines_naming(notes, "networkPolicy.metricsFrom")
    assert "Prometheus cannot scrape" in line


def test_notes_warn_only_about_what_is_used_and_unnamed():
    unused = render({}).notes
    assert _lines_naming(unused, "networkPolicy.egress.database.to")
    assert not _lines_naming(unused, "networkPolicy.egress.redis.to")
    assert not _lines_naming(unused, "networkPolicy.egress.otlp.to")
    for values in (SCENARIOS["every-option-on"], {"networkPolicy": {"enabled": False}}):
        assert not _lines_naming(render(values).notes, "networkPolicy.")
