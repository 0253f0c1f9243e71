"""The chart rendered with Helm's own library (helm-python-sdk) for a local run, and what the run needs of it.

Values are deploy/helm/values-pods.yaml (one replica each, the images `make images` tagged, the dev
certificates as existing Secrets) plus what only the run knows: the endpoints of its own PostgreSQL,
Redis and moto, and the API keys' hashes. The dev certificates carry the names cert-manager would give
them: the Certificates of a second render, with cert-manager on and the same values otherwise.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

from tools.engine import REPO

CHART = REPO / "charts" / "games-platform"
VALUES = REPO / "deploy" / "helm" / "values-pods.yaml"
RELEASE = "games"
NAMESPACE = "games"
Manifest = dict[str, Any]


@dataclass(frozen=True)
class Endpoints:
    """What the run started outside the pods, as the pods reach it."""

    database_url: str
    redis_url: str
    s3_endpoint: str
    bucket: str
    api_keys: list[dict[str, Any]]


def local_values(endpoints: Endpoints) -> dict[str, Any]:
    """values-pods.yaml with the run's endpoints and keys."""
    values: dict[str, Any] = yaml.safe_load(VALUES.read_text())
    values["database"] = {**values.get("database", {}), "url": endpoints.database_url}
    gateway = values.setdefault("gateway", {})
    gateway["redis"] = {**gateway.get("redis", {}), "url": endpoints.redis_url}
    gateway["apiKeys"] = {"keys": endpoints.api_keys}
    s3 = values.setdefault("ingestion", {}).setdefault("s3", {})
    s3.update(endpointUrl=endpoints.s3_endpoint, bucket=endpoints.bucket)
    return values


def render(values: dict[str, Any]) -> list[Manifest]:
    """Every object of an install of release `games` in namespace `games` (hooks included)."""
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects: list[Manifest] = []
    for path, text in sorted(manifests.items()):
        if not path.endswith("NOTES.txt"):
            objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def certificate_names(values: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """Per component: (URI SAN, DNS names) of the Certificate the chart asks cert-manager for."""
    with_cert_manager = copy.deepcopy(values)
    with_cert_manager["tls"] = {"certManager": {"enabled": True}}
    names = {}
    for cert in of_kind(render(with_cert_manager), "Certificate"):
        component = cert["metadata"]["labels"]["app.kubernetes.io/component"]
        names[component] = (cert["spec"]["uris"][0], list(cert["spec"]["dnsNames"]))
    return names


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    """The objects of one kind."""
    return [o for o in objects if o["kind"] == kind]


def is_hook(manifest: Manifest) -> bool:
    """Whether Helm runs it as a hook (before the release's other objects exist)."""
    return "helm.sh/hook" in (manifest["metadata"].get("annotations") or {})


def pod_template(workload: Manifest) -> Manifest:
    """The pod template of a Pod, Deployment, Job or CronJob (its job's pod), with a Job's deadline in it."""
    kind = workload["kind"]
    if kind == "Pod":
        return {"metadata": workload["metadata"], "spec": workload["spec"]}
    if kind == "CronJob":
        job = workload["spec"]["jobTemplate"]["spec"]
    elif kind == "Job":
        job = workload["spec"]
    else:
        return dict(workload["spec"]["template"])
    template = copy.deepcopy(job["template"])
    if "activeDeadlineSeconds" in job:
        template["spec"].setdefault("activeDeadlineSeconds", job["activeDeadlineSeconds"])
    return dict(template)


def selects(service: Manifest, labels: dict[str, str]) -> bool:
    """Whether a Service's selector picks pods with these labels."""
    selector = service["spec"].get("selector") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def service_aliases(objects: list[Manifest], template: Manifest) -> Iterator[str]:
    """The Service names that resolve to this pod, checking each port reaches the same container port.

    A network alias gives a name, not a port mapping: a Service whose port differs from its target port
    cannot be played locally, and a target port the pod does not declare is a chart mistake either way.
    """
    labels = template["metadata"].get("labels", {})
    ports = {
        p.get("name"): int(p["containerPort"])
        for c in template["spec"]["containers"]
        for p in c.get("ports", [])
    }
    for service in of_kind(objects, "Service"):
        if not selects(service, labels):
            continue
        name = service["metadata"]["name"]
        for port in service["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            number = ports.get(target) if isinstance(target, str) else int(target)
            if number is None:
                raise ValueError(f"Service {name}: targetPort {target!r} is no port of the pod")
            if number != int(port["port"]):
                raise ValueError(f"Service {name}: port {port['port']} -> {number}: not reproduced locally")
        yield name


def values_file() -> Path:
    """The values file of the local run (for messages)."""
    return VALUES
