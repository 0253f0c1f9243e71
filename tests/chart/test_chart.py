"""The chart lints strictly and renders valid Kubernetes 1.31 objects in every configuration we ship.

Each scenario (tests/chart/scenarios.py) is a set of values a platform team would really use: the
defaults, the production values file, cert-manager off with existing Secrets, every optional feature
on, and every one off. Custom resources (cert-manager, prometheus-operator) have no schema in
kubernetes-validate, so their shape is checked by the tests that read them (test_chart_habits.py).
"""

from __future__ import annotations

import helm_python as helm
import kubernetes_validate
import pytest

from tests.chart.rendering import CHART, KUBE_VERSION, render
from tests.chart.scenarios import SCENARIOS, namespace_selector

CUSTOM_KINDS = {"Certificate", "ServiceMonitor", "PrometheusRule"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_lints_strictly(scenario):
    report = helm.lint(
        CHART, SCENARIOS[scenario], strict=True, namespace="games", kube_version=f"v{KUBE_VERSION}.0"
    )
    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert report["errors"] == []
    assert problems == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_object_is_valid_for_kubernetes_1_31(scenario):
    rendered = render(SCENARIOS[scenario])
    assert rendered.objects
    for manifest in rendered.objects:
        if manifest["kind"] in CUSTOM_KINDS:
            continue
        name = f"{manifest['kind']}/{manifest['metadata']['name']}"
        try:
            kubernetes_validate.validate(manifest, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{scenario}: {name}: {error.message} at {list(error.path)}")


def test_optional_features_add_and_remove_their_objects():
    on = render(SCENARIOS["every-option-on"])
    off = render(SCENARIOS["every-option-off"])
    for kind in ("ServiceMonitor", "PrometheusRule", "HorizontalPodAutoscaler"):
        assert on.of_kind(kind), kind
        assert not off.of_kind(kind), kind
    assert len(on.of_kind("PodDisruptionBudget")) == 3
    for kind in ("PodDisruptionBudget", "CronJob", "Job", "NetworkPolicy", "Pod"):
        assert not off.of_kind(kind), kind
    assert {o["metadata"]["name"] for o in on.of_kind("ConfigMap")} >= {
        "games-games-platform-dashboard-gateway",
        "games-games-platform-dashboard-catalog",
        "games-games-platform-dashboard-ingestion",
    }


def test_schema_rejects_a_wrong_type():
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError, match="replicaCount"):
        chart.validate_schema({"gateway": {"replicaCount": "two"}})
    report = helm.lint(CHART, {"catalog": {"pool": {"size": "ten"}}}, strict=True)
    assert any("pool/size" in message for message in report["errors"]), report


@pytest.mark.parametrize(
    "values",
    [
        {"gateway": {"replicas": 3}},
        {"imageTag": "v1"},
        {"ingestion": {"cronJob": {"concurrencyPolicy": "Allow"}}},
        {"logLevel": "TRACE"},
        {"gateway": {"apiKeys": {"keys": [{"id": "x", "hash": "plaintext", "scopes": ["games.read"]}]}}},
        {"tls": {"certManager": {"duration": "90 days"}}},
        # Pods that cannot resolve names reach nothing; a destination must be a real peer.
        {"networkPolicy": {"egress": {"dns": {"to": []}}}},
        {"networkPolicy": {"egress": {"database": {"to": [{}]}}}},
        {"networkPolicy": {"egress": {"s3": {"to": [{"ipblock": {"cidr": "10.0.0.0/8"}}]}}}},
        {"networkPolicy": {"egress": {"otlp": {"to": [{"ipBlock": {"except": ["10.0.0.0/8"]}}]}}}},
        {"networkPolicy": {"metricsFrom": [{"namespaceSelector": "monitoring"}]}},
        # Without matchLabels the API server would drop the label and select every namespace.
        {
            "networkPolicy": {
                "metricsFrom": [{"namespaceSelector": namespace_selector("monitoring")["matchLabels"]}]
            }
        },
    ],
)
def test_schema_rejects_unknown_keys_and_bad_values(values):
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError):
        chart.validate_schema(values)


def test_cert_manager_off_needs_named_secrets():
    needed = r"tls.existingSecrets.\w+ is required"
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmError, match=needed):
        chart.render({"tls": {"certManager": {"enabled": False}}}, name="games", namespace="games")
