"""A rendered container spec turned into `podman run` arguments, as kubelet would turn it into a container.

Pure: no podman here, so tests/unit/tools/ checks each rule. What kubelet does and this reproduces: env
from `envFrom` then `env` (values, Secret and ConfigMap keys, the pod's own fields), `$(VAR)` expansion in
env, command and args; `command` replacing the image's ENTRYPOINT and `args` its CMD; the security context
(pod-level merged under container-level) with runAsNonRoot checked against the user that would run; the
memory and CPU limits; volume mounts (Secrets as read-only files, emptyDirs). Whatever the chart asks that
the image or the objects cannot give (a missing Secret or key, an unknown volume, root under
runAsNonRoot) raises PodError naming the pod and the container, as kubelet's CreateContainerConfigError.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Spec = dict[str, Any]
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_QUANTITY = re.compile(r"^([0-9.]+)([A-Za-z]*)$")
_SUFFIX = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


class PodError(RuntimeError):
    """The chart and the image disagree: which pod, which container, what, and its last log lines."""

    def __init__(self, pod: str, container: str, message: str, logs: str = "") -> None:
        self.pod, self.container, self.logs = pod, container, logs
        tail = f"\n--- last log lines of {container}:\n{logs}" if logs else ""
        super().__init__(f"pod {pod}, container {container}: {message}{tail}")


@dataclass
class Cluster:
    """What the API server would hold: Secrets and ConfigMaps by name, as strings."""

    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, manifest: Spec) -> None:
        """Keep a Secret (data is base64, stringData plain) or ConfigMap; ignore other kinds."""
        name = manifest["metadata"]["name"]
        if manifest["kind"] == "Secret":
            data = {k: base64.b64decode(v).decode() for k, v in (manifest.get("data") or {}).items()}
            self.secrets[name] = {**data, **(manifest.get("stringData") or {})}
        elif manifest["kind"] == "ConfigMap":
            self.config_maps[name] = dict(manifest.get("data") or {})


@dataclass(frozen=True)
class Pod:
    """One pod about to run: its name and namespace, its spec, and where its volumes are on the host."""

    name: str
    namespace: str
    spec: Spec
    volume_dir: Path
    service_account: str = ""


def quantity(value: str | int | float) -> float:
    """A Kubernetes quantity (512Mi, 250m, 1) as a number (bytes, cores)."""
    text = str(value)
    if text.endswith("m") and text[:-1].replace(".", "").isdigit():
        return float(text[:-1]) / 1000
    match = _QUANTITY.match(text)
    if match is None or match.group(2) not in _SUFFIX:
        raise ValueError(f"not a quantity: {value!r}")
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def expand(text: str, env: dict[str, str]) -> str:
    """kubelet's `$(VAR)` expansion: defined names are replaced, `$$` is a `$`, the rest stays as written."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _REFERENCE.sub(replace, text)


def resolve_env(pod: Pod, container: Spec, cluster: Cluster) -> dict[str, str]:
    """The container's environment as kubelet builds it: envFrom first, then env in order, expanded."""
    name = container["name"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "secretRef" in source:
            env.update({prefix + k: v for k, v in _secret(pod, name, cluster, source["secretRef"]).items()})
        elif "configMapRef" in source:
            env.update(
                {prefix + k: v for k, v in _config_map(pod, name, cluster, source["configMapRef"]).items()}
            )
    for entry in container.get("env", []):
        if "valueFrom" not in entry:
            env[entry["name"]] = expand(str(entry.get("value", "")), env)
            continue
        ref = entry["valueFrom"]
        if "secretKeyRef" in ref:
            value = _key(
                pod, name, "Secret", _secret(pod, name, cluster, ref["secretKeyRef"]), ref["secretKeyRef"]
            )
        elif "configMapKeyRef" in ref:
            source = _config_map(pod, name, cluster, ref["configMapKeyRef"])
            value = _key(pod, name, "ConfigMap", source, ref["configMapKeyRef"])
        elif "fieldRef" in ref:
            value = _field(pod, name, ref["fieldRef"]["fieldPath"])
        else:
            raise PodError(pod.name, name, f"env {entry['name']}: unsupported valueFrom {sorted(ref)}")
        if value is not None:
            env[entry["name"]] = value
    return env


def _secret(pod: Pod, container: str, cluster: Cluster, ref: Spec) -> dict[str, str]:
    found = cluster.secrets.get(ref["name"])
    if found is None and not ref.get("optional", False):
        raise PodError(pod.name, container, f"Secret {ref['name']!r} not found")
    return found or {}


def _config_map(pod: Pod, container: str, cluster: Cluster, ref: Spec) -> dict[str, str]:
    found = cluster.config_maps.get(ref["name"])
    if found is None and not ref.get("optional", False):
        raise PodError(pod.name, container, f"ConfigMap {ref['name']!r} not found")
    return found or {}


def _key(pod: Pod, container: str, kind: str, data: dict[str, str], ref: Spec) -> str | None:
    if ref["key"] in data:
        return data[ref["key"]]
    if ref.get("optional", False):
        return None
    raise PodError(
        pod.name, container, f"{kind} {ref['name']!r} has no key {ref['key']!r} (keys: {sorted(data)})"
    )


def _field(pod: Pod, container: str, path: str) -> str:
    fields = {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "spec.serviceAccountName": pod.service_account,
        "spec.nodeName": "localhost",
    }
    if path not in fields:
        raise PodError(pod.name, container, f"fieldRef {path} is not reproduced locally")
    return fields[path]


def effective_user(pod: Pod, container: Spec, image_user: str) -> tuple[int, int | None]:
    """(uid, gid) the container runs as: securityContext's runAsUser/runAsGroup over the image's USER."""
    context = {**pod.spec.get("securityContext", {}), **container.get("securityContext", {})}
    user, _, group = (image_user or "0").partition(":")
    if "runAsUser" in context:
        uid = int(context["runAsUser"])
    elif user.isdigit():
        uid = int(user)
    elif context.get("runAsNonRoot"):
        raise PodError(
            pod.name, container["name"], f"image USER {user!r} is not numeric: runAsNonRoot cannot verify it"
        )
    else:
        uid = 0 if user in ("", "root") else -1
    gid = context.get("runAsGroup", int(group) if group.isdigit() else None)
    if context.get("runAsNonRoot") and uid == 0:
        raise PodError(
            pod.name, container["name"], "runAsNonRoot, but the container would run as root (uid 0)"
        )
    return uid, gid


def security_args(pod: Pod, container: Spec, image_user: str) -> list[str]:
    """`podman run` flags for the merged security context."""
    pod_context: Spec = pod.spec.get("securityContext", {})
    context = {**pod_context, **container.get("securityContext", {})}
    uid, gid = effective_user(pod, container, image_user)
    args = ["--user", f"{uid}:{gid}" if gid is not None else str(uid)] if uid >= 0 else []
    for group in [pod_context.get("fsGroup"), *pod_context.get("supplementalGroups", [])]:
        if group is not None:
            args += ["--group-add", str(group)]
    if context.get("readOnlyRootFilesystem"):
        # podman would otherwise mount writable tmpfs on /tmp, /var/tmp and /run: kubelet does not.
        args += ["--read-only", "--read-only-tmpfs=false"]
    capabilities = context.get("capabilities", {})
    args += [f"--cap-drop={cap}" for cap in capabilities.get("drop", [])]
    args += [f"--cap-add={cap}" for cap in capabilities.get("add", [])]
    if context.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    if context.get("privileged"):
        args.append("--privileged")
    seccomp = context.get("seccompProfile", {}).get("type", "RuntimeDefault")
    if seccomp == "Unconfined":
        args += ["--security-opt", "seccomp=unconfined"]
    elif seccomp != "RuntimeDefault":
        raise PodError(pod.name, container["name"], f"seccompProfile {seccomp} is not reproduced locally")
    return args


def resource_args(container: Spec) -> list[str]:
    """The memory and CPU limits (requests only matter to the scheduler)."""
    limits = container.get("resources", {}).get("limits", {})
    args = []
    if "memory" in limits:
        args += ["--memory", str(int(quantity(limits["memory"])))]
    if "cpu" in limits:
        args += ["--cpus", f"{quantity(limits['cpu']):g}"]
    return args


def volume_args(pod: Pod, container: Spec) -> list[str]:
    """Mounts of the pod's volumes, each a folder under pod.volume_dir that kubelet.write_volumes made."""
    volumes = {volume["name"]: volume for volume in pod.spec.get("volumes", [])}
    args = []
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"])
        if volume is None:
            raise PodError(
                pod.name, container["name"], f"volumeMount {mount['name']!r}: no such volume in the pod"
            )
        if "subPath" in mount:
            raise PodError(pod.name, container["name"], "volumeMount subPath is not reproduced locally")
        target = mount["mountPath"]
        if not {"emptyDir", "secret", "configMap"} & set(volume):
            raise PodError(
                pod.name, container["name"], f"volume {mount['name']!r}: kind not reproduced locally"
            )
        # Every volume is a folder kubelet prepared on the node (kubelet.write_volumes: an emptyDir is a
        # shared, writable folder, a Secret the atomic writer's files); Secrets are always read-only.
        read_only = mount.get("readOnly", False) or "emptyDir" not in volume
        args += ["--volume", f"{pod.volume_dir / mount['name']}:{target}{':ro' if read_only else ''}"]
    return args


def command_args(container: Spec, env: dict[str, str]) -> tuple[list[str], list[str]]:
    """(flags before the image, words after it): `command` replaces ENTRYPOINT, `args` replaces CMD."""
    flags: list[str] = []
    words = [expand(str(arg), env) for arg in container.get("args", [])]
    if "command" in container:
        command = [expand(str(part), env) for part in container["command"]]
        flags = ["--entrypoint", command[0]]
        words = command[1:] + words
    return flags, words


def run_args(pod: Pod, container: Spec, cluster: Cluster, image_user: str) -> list[str]:
    """The `podman run` arguments but --name, --pod and --detach, ending with the image and its args."""
    env = resolve_env(pod, container, cluster)
    flags, words = command_args(container, env)
    env_args = [arg for name, value in env.items() for arg in ("--env", f"{name}={value}")]
    return [
        *security_args(pod, container, image_user),
        *resource_args(container),
        *volume_args(pod, container),
        *env_args,
        *flags,
        "--pull",
        "never",
        container["image"],
        *words,
    ]
