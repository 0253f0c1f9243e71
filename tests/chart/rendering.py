"""Render the chart with Helm's own library and look at what it made.

`render(values)` returns every manifest as a dict (NOTES.txt aside), the way `helm template` would
for release `games` in namespace `games`. Helpers find objects by kind and name and walk pod specs,
whatever workload holds them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "games-platform"
RELEASE = "games"
NAMESPACE = "games"
PREFIX = f"{RELEASE}-games-platform"
KUBE_VERSION = "1.31"

Manifest = dict[str, Any]


def load_values(path: Path) -> dict[str, Any]:
    """A values file as a dict."""
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


@dataclass
class Rendered:
    """The objects one render produced, and its NOTES.txt."""

    objects: list[Manifest]
    notes: str

    def of_kind(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> Manifest:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    def names(self, kind: str) -> set[str]:
        return {o["metadata"]["name"] for o in self.of_kind(kind)}


def render(values: dict[str, Any] | None = None) -> Rendered:
    """Render the chart offline as an install of release `games` in namespace `games`."""
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects: list[Manifest] = []
    notes = ""
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return Rendered(objects, notes)


def pod_spec(workload: Manifest) -> dict[str, Any]:
    """The pod spec inside a Deployment, Job, CronJob or bare Pod."""
    kind = workload["kind"]
    if kind == "Pod":
        return dict(workload["spec"])
    if kind == "CronJob":
        return dict(workload["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return dict(workload["spec"]["template"]["spec"])


def pod_labels(workload: Manifest) -> dict[str, str]:
    """The labels of the pods a workload makes."""
    kind = workload["kind"]
    if kind == "Pod":
        return dict(workload["metadata"]["labels"])
    if kind == "CronJob":
        return dict(workload["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"])
    return dict(workload["spec"]["template"]["metadata"]["labels"])


WORKLOAD_KINDS = ("Deployment", "CronJob", "Job", "Pod")


def workloads(rendered: Rendered) -> Iterator[Manifest]:
    """Every object that makes pods."""
    for kind in WORKLOAD_KINDS:
        yield from rendered.of_kind(kind)


def containers(workload: Manifest) -> list[dict[str, Any]]:
    """Init containers and containers of a workload's pods."""
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def component_name(component: str) -> str:
    """The object name the chart gives one component in release `games`."""
    return f"{PREFIX}-{component}"
