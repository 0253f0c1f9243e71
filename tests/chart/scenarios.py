"""The sets of values the chart tests render the chart with: each one a platform team would really use.

The defaults, the production values file, the dev values skaffold uses, cert-manager off with existing
Secrets, every optional feature on, and every one off.
"""

from __future__ import annotations

from typing import Any

from tests.chart.rendering import ROOT, load_values


def namespace_selector(name: str) -> dict[str, Any]:
    """A selector of the namespace called `name`."""
    return {"matchLabels": {"kubernetes.io/metadata.name": name}}


def app_selector(name: str) -> dict[str, Any]:
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
                {
                    "namespaceSelector": namespace_selector("monitoring"),
                    "podSelector": app_selector("prometheus"),
                }
            ],
            "egress": {
                "database": {"to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]},
                "redis": {"to": [{"namespaceSelector": namespace_selector("redis")}]},
                "s3": {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]}}]
                },
                "otlp": {
                    "to": [
                        {
                            "namespaceSelector": namespace_selector("observability"),
                            "podSelector": app_selector("opentelemetry-collector"),
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
