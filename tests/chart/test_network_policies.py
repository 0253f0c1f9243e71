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
from tests.chart.test_chart import SCENARIOS

Pod = dict[str, Any]  # {"labels": {...}, "namespace": str, "namespace_labels": {...}, "ip": str}
OUTSIDE = "203.0.113.7"


def _matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def _peer_matches(peer: dict[str, Any], pod: Pod) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        return bool(pod["ip"]) and ipaddress.ip_address(pod["ip"]) in ipaddress.ip_network(block["cidr"])
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


def test_everyone_reaches_dns_and_otlp(rendered, pods):
    dns = foreign_pod("kube-system", {"k8s-app": "kube-dns"})
    for name in ("gateway", "catalog", "ingestion", "run", "migrate"):
        assert allowed(rendered, pods[name], dns, 53), name
        assert not allowed(rendered, pods[name], foreign_pod("kube-system"), 53), name
    for name in ("gateway", "catalog", "ingestion", "run"):
        assert allowed(rendered, pods[name], outside(), 4317), name


def test_external_dependencies_only_for_those_that_use_them(rendered, pods):
    database = outside()
    for name in ("catalog", "ingestion", "run", "migrate"):
        assert allowed(rendered, pods[name], database, 5432), name
    assert not allowed(rendered, pods["gateway"], database, 5432)
    assert allowed(rendered, pods["gateway"], outside(), 6379)
    assert not allowed(rendered, pods["catalog"], outside(), 6379)
    for name in ("ingestion", "run"):
        assert allowed(rendered, pods[name], outside(), 443), name
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
