"""A pod's volumes on the node, laid out as kubelet lays them out, before its containers start.

A Secret or ConfigMap volume is written by kubelet's atomic writer: the files live in a timestamped
folder, `..data` links to it and each key is a link through `..data` (the gateway's key store relies on
that swap to notice updates). Modes follow `defaultMode` (or an item's `mode`), and with an fsGroup the
files belong to that group, which is how a non-root user reads a 0440 key. An emptyDir is a writable
folder shared by every container of the pod.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tools.pods.podspec import Cluster, Pod, PodError

DEFAULT_MODE = 0o644


def write_volumes(pod: Pod, cluster: Cluster) -> None:
    """Create pod.volume_dir/<volume> for each volume of the pod."""
    fs_group = pod.spec.get("securityContext", {}).get("fsGroup")
    for volume in pod.spec.get("volumes", []):
        target = pod.volume_dir / volume["name"]
        target.mkdir(parents=True, exist_ok=True)
        if "emptyDir" in volume:
            target.chmod(0o777)  # kubelet's emptyDir mode: any user of the pod may write
            if fs_group is not None:
                os.chown(target, 0, int(fs_group))
                target.chmod(0o2777)
            continue
        if "secret" in volume:
            source = volume["secret"]
            data = cluster.secrets.get(source["secretName"])
            kind, name = "Secret", source["secretName"]
        elif "configMap" in volume:
            source = volume["configMap"]
            data = cluster.config_maps.get(source["name"])
            kind, name = "ConfigMap", source["name"]
        else:
            continue  # podspec.volume_args names the unsupported kind when a container mounts it
        if data is None:
            if source.get("optional", False):
                data = {}
            else:
                raise PodError(pod.name, "-", f"volume {volume['name']!r}: {kind} {name!r} not found")
        _atomic_write(
            pod, volume["name"], target, _files(pod, volume["name"], kind, name, data, source), fs_group
        )


def _files(
    pod: Pod, volume: str, kind: str, name: str, data: dict[str, str], source: dict[str, object]
) -> dict[str, tuple[str, int]]:
    """Relative path -> (content, mode) of what the volume shows."""
    default_mode = int(str(source.get("defaultMode", DEFAULT_MODE)))
    items = source.get("items")
    if not isinstance(items, list):
        return {key: (value, default_mode) for key, value in data.items()}
    files = {}
    for item in items:
        if item["key"] not in data:
            raise PodError(pod.name, "-", f"volume {volume!r}: {kind} {name!r} has no key {item['key']!r}")
        files[item["path"]] = (data[item["key"]], int(item.get("mode", default_mode)))
    return files


def _atomic_write(
    pod: Pod, volume: str, target: Path, files: dict[str, tuple[str, int]], fs_group: int | None
) -> None:
    stamp = target / time.strftime("..%Y_%m_%d_%H_%M_%S.000000001")
    stamp.mkdir()
    stamp.chmod(0o755)
    for relative, (content, mode) in files.items():
        if relative.startswith("/") or ".." in Path(relative).parts:
            raise PodError(pod.name, "-", f"volume {volume!r}: path {relative!r} leaves the volume")
        path = stamp / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(mode)
        if fs_group is not None:
            os.chown(path, 0, int(fs_group))
    (target / "..data").symlink_to(stamp.name)
    for top in {Path(relative).parts[0] for relative in files}:
        (target / top).symlink_to(f"..data/{top}")
