"""tools.pods.podspec: a rendered container becomes the `podman run` kubelet would make of it, or a PodError.

Pure rules, no podman: env sources and `$(VAR)` expansion, the security context, limits, volumes, and
that every mismatch names the pod and the container. `make pods` runs them against real containers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.pods.podspec import Cluster, Pod, PodError, expand, quantity, resolve_env, run_args

HARDENED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "privileged": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pod(container: dict[str, Any], **spec: Any) -> Pod:
    body = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001},
        "containers": [container],
        "volumes": [
            {"name": "tls", "secret": {"secretName": "tls", "defaultMode": 0o440}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
        **spec,
    }
    return Pod("catalog-abc123", "games", body, Path("/node/catalog-abc123"), "catalog")


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "catalog", "image": "localhost/games-platform/catalog:local", **fields}


def cluster() -> Cluster:
    objects = Cluster()
    objects.add({"kind": "Secret", "metadata": {"name": "db"}, "data": {"url": "cG9zdGdyZXM6Ly9kYg=="}})
    objects.add({"kind": "Secret", "metadata": {"name": "aws"}, "stringData": {"AWS_ACCESS_KEY_ID": "id"}})
    objects.add({"kind": "ConfigMap", "metadata": {"name": "conf"}, "data": {"level": "DEBUG"}})
    return objects


def test_env_comes_from_every_source_in_kubelets_order_and_expands_earlier_names() -> None:
    spec = container(
        envFrom=[{"secretRef": {"name": "aws"}}],
        env=[
            {"name": "CATALOG_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},
            {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "conf", "key": "level"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "ATTRS", "value": "k8s.pod.name=$(POD),ns=$(NAMESPACE),literal=$$(POD)"},
        ],
    )
    env = resolve_env(pod(spec), spec, cluster())
    assert env["AWS_ACCESS_KEY_ID"] == "id"
    assert env["CATALOG_DATABASE_URL"] == "postgres://db"
    assert env["LEVEL"] == "DEBUG"
    assert env["ATTRS"] == "k8s.pod.name=catalog-abc123,ns=$(NAMESPACE),literal=$(POD)"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ({"secretKeyRef": {"name": "missing", "key": "url"}}, "Secret 'missing' not found"),
        ({"secretKeyRef": {"name": "db", "key": "URL"}}, "Secret 'db' has no key 'URL' (keys: ['url'])"),
        ({"configMapKeyRef": {"name": "nope", "key": "x"}}, "ConfigMap 'nope' not found"),
    ],
)
def test_a_missing_secret_or_key_names_the_pod_and_the_container(ref: dict[str, Any], message: str) -> None:
    spec = container(env=[{"name": "X", "valueFrom": ref}])
    with pytest.raises(PodError, match="pod catalog-abc123, container catalog: ") as raised:
        resolve_env(pod(spec), spec, cluster())
    assert message in str(raised.value)


def test_an_optional_key_that_is_missing_leaves_the_variable_unset() -> None:
    spec = container(
        env=[{"name": "X", "valueFrom": {"secretKeyRef": {"name": "db", "key": "no", "optional": True}}}]
    )
    assert "X" not in resolve_env(pod(spec), spec, cluster())


def test_the_security_context_limits_and_volumes_become_podman_flags() -> None:
    spec = container(
        args=["serve"],
        securityContext=HARDENED,
        resources={"limits": {"cpu": "1", "memory": "512Mi"}, "requests": {"cpu": "250m"}},
        volumeMounts=[
            {"name": "tls", "mountPath": "/etc/games/tls", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    )
    args = run_args(pod(spec), spec, cluster(), image_user="10001:10001")
    joined = " ".join(args)
    assert "--user 10001:10001" in joined
    assert "--group-add 10001" in joined  # fsGroup: how the non-root user reads a 0440 key
    assert "--read-only --read-only-tmpfs=false" in joined  # no tmpfs that kubelet would not give
    assert "--cap-drop=ALL" in args
    assert "--security-opt no-new-privileges" in joined
    assert f"--memory {512 * 2**20}" in joined
    assert "--cpus 1" in joined
    assert "--volume /node/catalog-abc123/tls:/etc/games/tls:ro" in joined
    assert "--volume /node/catalog-abc123/tmp:/tmp" in joined
    assert args[-2:] == ["localhost/games-platform/catalog:local", "serve"]


def test_command_replaces_the_entrypoint_and_args_the_cmd_both_expanded() -> None:
    spec = container(
        command=["gamectl", "health"], args=["$(TARGET)"], env=[{"name": "TARGET", "value": "x:1"}]
    )
    args = run_args(pod(spec), spec, cluster(), image_user="10001:10001")
    assert args[args.index("--entrypoint") + 1] == "gamectl"
    assert args[-3:] == ["localhost/games-platform/catalog:local", "health", "x:1"]


def test_run_as_non_root_refuses_a_container_that_would_run_as_root() -> None:
    spec = container()
    root_pod = pod(spec, securityContext={"runAsNonRoot": True})
    with pytest.raises(PodError, match="would run as root"):
        run_args(root_pod, spec, cluster(), image_user="")
    with pytest.raises(PodError, match="not numeric"):
        run_args(root_pod, spec, cluster(), image_user="games-platform")
    assert "--user" in run_args(root_pod, spec, cluster(), image_user="10001:10001")


def test_a_mount_of_a_volume_the_pod_lacks_is_a_pod_error() -> None:
    spec = container(volumeMounts=[{"name": "cache", "mountPath": "/var/cache"}])
    with pytest.raises(PodError, match="volumeMount 'cache': no such volume"):
        run_args(pod(spec), spec, cluster(), image_user="10001")


def test_quantities_and_expansion_follow_kubernetes() -> None:
    assert quantity("512Mi") == 512 * 2**20
    assert quantity("250m") == 0.25
    assert quantity("1G") == 10**9
    assert quantity(2) == 2
    assert expand("$(A)-$(B)-$$", {"A": "a"}) == "a-$(B)-$"
