"""The chart's README documents every value, and skaffold.yaml points at things that exist."""

from __future__ import annotations

import json
from typing import Any

import yaml

from scripts.chart_values_doc import README, rendered_readme, rows
from tests.chart.rendering import CHART, ROOT, component_name, load_values, pod_spec, render


def _leaves(values: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in values.items():
        if isinstance(value, dict) and value and key != "resources":
            keys |= _leaves(value, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


def test_readme_values_table_is_current():
    stale = "charts/games-platform/README.md is stale: run make chart-docs"
    assert README.read_text() == rendered_readme(), stale


def test_every_default_value_is_documented():
    schema = json.loads((CHART / "values.schema.json").read_text())
    values = load_values(CHART / "values.yaml")
    documented = {key for key, *_ in rows(schema, values)}
    missing = {
        key
        for key in _leaves(values)
        if key not in documented and not any(key.startswith(d + ".") for d in documented)
    }
    assert not missing


def test_skaffold_builds_each_target_and_deploys_the_chart():
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    assert config["apiVersion"].startswith("skaffold/v4beta")
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    for artifact in config["build"]["artifacts"]:
        target = artifact["docker"]["target"]
        assert artifact["docker"]["dockerfile"] == "deploy/Dockerfile"
        assert f" AS {target}\n" in dockerfile
        assert artifact["image"] == f"games-platform/{target}"
    (release,) = config["deploy"]["helm"]["releases"]
    assert (ROOT / release["chartPath"] / "Chart.yaml").exists()
    values: dict[str, Any] = {}
    for path in release["valuesFiles"]:
        values.update(load_values(ROOT / path))
    # The image each artifact becomes is the one its Deployment runs.
    overrides = {key.split(".")[-1]: value for key, value in release["setValueTemplates"].items()}
    assert set(overrides) == {"gateway", "catalog", "ingestion"}
    images = {service: f"built/{service}:abc" for service in overrides}
    values.setdefault("image", {})["overrides"] = images
    rendered = render(values)
    for service, image in images.items():
        (container,) = pod_spec(rendered.get("Deployment", component_name(service)))["containers"]
        assert container["image"] == image
    (forward,) = config["portForward"]
    assert forward["resourceName"] == f"{release['name']}-games-platform-gateway"
    assert forward["port"] == values.get("gateway", {}).get("ports", {}).get("grpc", 50051)


def test_skaffold_production_profile_patches_existing_paths():
    config = yaml.safe_load((ROOT / "skaffold.yaml").read_text())
    (profile,) = config["profiles"]
    for patch in profile["patches"]:
        node: Any = config
        for part in patch["path"].strip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part]
        if patch["path"].endswith("valuesFiles"):
            assert all((ROOT / path).exists() for path in patch["value"])
