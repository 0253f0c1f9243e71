"""`GAMECTL_PROMETHEUS=1 make up` labels its targets as the chart's ServiceMonitors label a cluster's.

The monitoring scenario (tests/e2e/monitoring) proves the dashboards and alerts against the local
Prometheus; this ties those local labels to what prometheus-operator would make of the chart for a
release of the same name: job and service are the Service's name, the port is the Service's `metrics`
port, and `component` comes from the pod label the ServiceMonitor relabels.
"""

from __future__ import annotations

from typing import Any

import helm_python as helm
import yaml

from gamectl.prometheuslocal import NAMESPACE, RELEASE, scrape_config
from tests.chart.rendering import CHART

COMPONENTS = ("gateway", "catalog", "ingestion")


def rendered_objects() -> list[dict[str, Any]]:
    values = {"metrics": {"serviceMonitor": {"enabled": True}}}
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return [
        doc
        for path, text in manifests.items()
        if path.endswith(".yaml")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def test_local_targets_carry_the_labels_the_service_monitors_produce() -> None:
    objects = rendered_objects()
    monitors = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ServiceMonitor"}
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    config = scrape_config({c: f"127.0.0.1:{9000 + i}" for i, c in enumerate(COMPONENTS)}, 2)
    jobs = {job["job_name"]: job["static_configs"][0]["labels"] for job in config["scrape_configs"]}
    for component in COMPONENTS:
        name = f"{RELEASE}-{component}"
        monitor, service = monitors[name], services[name]
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["port"] == "metrics"
        assert "metrics" in {p["name"] for p in service["spec"]["ports"]}
        (relabel,) = endpoint["relabelings"]
        assert relabel == {
            "sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_component"],
            "targetLabel": "component",
        }
        pod_labels = service["spec"]["selector"]
        assert pod_labels["app.kubernetes.io/component"] == component
        labels = jobs[name]  # prometheus-operator names the job after the Service
        assert labels["service"] == name
        assert labels["component"] == component
        assert labels["namespace"] == NAMESPACE
        assert labels["endpoint"] == endpoint["port"]
