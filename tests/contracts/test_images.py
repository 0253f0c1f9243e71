"""`make images`, skaffold and `make pods` agree: the same targets, build args and image names.

tools.images reads its artifacts from skaffold.yaml; these checks keep that file in step with
deploy/Dockerfile, and the chart's local values (deploy/helm/values-pods.yaml) naming what was built.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.fixtures.dockerfile import DOCKERFILE, SERVICES, parse
from tools.baseimage import STANDIN, official_base
from tools.images import artifacts, build_command
from tools.pods.chart import Endpoints, local_values, of_kind, render


def test_skaffold_builds_one_artifact_per_service_target_from_the_dockerfile() -> None:
    found = artifacts()
    assert sorted(a.target for a in found) == sorted(SERVICES)
    targets = {stage.name for stage in parse(DOCKERFILE.read_text())}
    declared = set(re.findall(r"^ARG (\w+)", DOCKERFILE.read_text(), re.MULTILINE))
    for artifact in found:
        assert artifact.target in targets
        assert artifact.dockerfile == "deploy/Dockerfile"
        assert artifact.context == "."
        assert artifact.image == f"games-platform/{artifact.target}"
        assert set(artifact.build_args) <= declared, "skaffold passes an ARG the Dockerfile lacks"


def test_the_ca_is_a_build_secret_and_the_stand_in_arrives_as_base_image() -> None:
    artifact = artifacts()[0]
    ca = Path("/etc/ssl/certs/ca-certificates.crt")
    official = build_command(artifact, official_base(), ca)
    assert official[official.index("--secret") + 1] == f"id=ca,src={ca}"
    assert not any(arg.startswith("BASE_IMAGE=") for arg in official)
    standin = build_command(artifact, STANDIN, None)
    assert f"BASE_IMAGE={STANDIN}" in standin
    assert "--secret" not in standin
    assert standin[-1] == "."


def test_the_local_values_run_the_images_make_images_tags() -> None:
    endpoints = Endpoints(
        "postgresql+psycopg://postgres@10.0.0.1:1/games", "redis://10.0.0.1:2/0", "http://10.0.0.1:3", "b", []
    )
    objects = render(local_values(endpoints))
    built = {f"localhost/{artifact.reference}" for artifact in artifacts()}
    images = {
        container["image"]
        for kind in ("Deployment", "Job")
        for workload in of_kind(objects, kind)
        for container in [
            *workload["spec"]["template"]["spec"].get("initContainers", []),
            *workload["spec"]["template"]["spec"]["containers"],
        ]
    }
    assert images == built
