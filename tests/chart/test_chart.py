"""The chart lints strictly and renders valid Kubernetes 1.31 objects in every configuration we ship.

Each scenario is a set of values a platform team would really use: the defaults, the production
values file, cert-manager off with existing Secrets, every optional feature on, and every one off.
Custom resources (cert-manager, prometheus-operator) have no schema in kubernetes-validate, so
their shape is checked by the tests that read them (test_chart_habits.py).
"""

from __future__ import annotations

from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest

from tests.chart.rendering import CHART, KUBE_VERSION, ROOT, load_values, render

CUSTOM_KINDS = {"Certificate", "ServiceMonitor", "PrometheusRule"}


def _namespace(name: str) -> dict[str, Any]:
    """A selector of the namespace called `name`."""
    return {"matchLabels": {"kubernetes.io/metadata.name": name}}


def _app(name: str) -> dict[str, Any]:
    """A selector of the pods of the application called `name`."""
    return {"matchLabels": {"app.kubernetes.io/name": name}}


SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "production": load_values(ROOT / "deploy" / "helm" / "values-production.yaml"),
    "skaffold-dev": load_values(ROOT / "deploy" / "helm" / "values-dev.yaml"),
    "cert-manager-off": {
        "tls": {
            "certManager": {"enabled": False},
            "existingSecrets": {"gateway": "gw-tls", "catalog": "cat-tls", "ingestion": "ing-tls"},
        }
    },
    "every-option-on": {
        "database": {"url": "postgresql+psycopg://games:secret@db:5432/games"},
        "telemetry": {"otlpEndpoint": "http://collector:4317", "resourceAttributes": {"env": "test"}},
        "gateway": {
            "redis": {"url": "redis://redis:6379/0"},
            "identityScopes": {"spiffe://games.local/reports": ["games.read"]},
            "apiKeys": {"keys": [{"id": "reader", "hash": "sha256:" + "ab" * 32, "scopes": ["games.read"]}]},
            "autoscaling": {"inFlight": {"enabled": True}},
            "extraEnv": [{"name": "GATEWAY_API_KEYS_RELOAD_SECONDS", "value": "5"}],
        },
        "catalog": {"autoscaling": {"inFlight": {"enabled": True}}},
        "ingestion": {
            "sqs": {"queueUrl": "https://sqs.us-east-1.amazonaws.com/1/q"},
            "awsCredentials": {"existingSecret": "aws"},
            "alertWebhook": {"existingSecret": "webhook"},
            "podDisruptionBudget": {"enabled": True},
        },
        "metrics": {
            "serviceMonitor": {"enabled": True},
            "prometheusRule": {"enabled": True},
            "dashboards": {"enabled": True},
        },
        "networkPolicy": {
            "metricsFrom": [
                {"namespaceSelector": _namespace("monitoring"), "podSelector": _app("prometheus")}
            ],
            "egress": {
                "database": {"to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]},
                "redis": {"to": [{"namespaceSelector": _namespace("redis")}]},
                "s3": {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]}}]
                },
                "otlp": {
                    "to": [
                        {
                            "namespaceSelector": _namespace("observability"),
                            "podSelector": _app("opentelemetry-collector"),
                        }
                    ]
                },
            },
        },
    },
    "every-option-off": {
        "gateway": {"autoscaling": {"enabled": False}, "podDisruptionBudget": {"enabled": False}},
        "catalog": {"autoscaling": {"enabled": False}, "podDisruptionBudget": {"enabled": False}},
        "ingestion": {"cronJob": {"enabled": False}, "podDisruptionBudget": {"enabled": False}},
        "migrations": {"enabled": False},
        "networkPolicy": {"enabled": False},
        "tests": {"enabled": False},
    },
}


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
        {"networkPolicy": {"metricsFrom": [{"namespaceSelector": _namespace("monitoring")["matchLabels"]}]}},
    ],
)
def test_schema_rejects_unknown_keys_and_bad_values(values):
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError):
        chart.validate_schema(values)


def test_cert_manager_off_needs_named_secrets():
    needed = r"tls.existingSecrets.\w+ is required"
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmError, match=needed):
        chart.render({"tls": {"certManager": {"enabled": False}}}, name="games", namespace="games")
