"""The container engine: Docker where a daemon answers, else podman run with runc and the project's settings.

Podman is run as `podman --runtime runc` with CONTAINERS_CONF pointing at deploy/podman/containers.conf, so
the machine's own containers.conf is never edited and the two traps of these machines (crun on hybrid
cgroups, containers that may not set their own rlimits) are handled in one reviewed file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTAINERS_CONF = REPO / "deploy" / "podman" / "containers.conf"
DOCKER_PROBE_TIMEOUT_SECONDS = 10


class EngineError(RuntimeError):
    """A container engine command failed; the message carries its output."""


@dataclass(frozen=True)
class Engine:
    """One engine's command line and environment."""

    name: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def run(
        self, *args: str, check: bool = True, timeout: float | None = None, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run one engine command, capturing its output; EngineError when `check` and it fails."""
        result = subprocess.run(
            [*self.argv, *args], env=self.env, capture_output=True, timeout=timeout, input=stdin, check=False
        )
        if check and result.returncode != 0:
            raise EngineError(
                f"{' '.join([*self.argv, *args])} exited {result.returncode}:\n"
                f"{result.stdout.decode(errors='replace')[-2000:]}{result.stderr.decode(errors='replace')[-3000:]}"
            )
        return result

    def output(self, *args: str, timeout: float | None = None) -> str:
        """What a successful engine command prints, stripped."""
        return self.run(*args, timeout=timeout).stdout.decode().strip()

    def stream(self, *args: str) -> None:
        """Run a long engine command (a build) with its output on this terminal; EngineError on failure."""
        result = subprocess.run([*self.argv, *args], env=self.env, check=False)
        if result.returncode != 0:
            raise EngineError(f"{' '.join([*self.argv, *args])} exited {result.returncode}")

    def has_image(self, reference: str) -> bool:
        """Whether the engine's store holds this image."""
        return self.run("image", "inspect", reference, check=False).returncode == 0

    def popen(self, args: Sequence[str]) -> subprocess.Popen[bytes]:
        """Start an engine command in the background (podman logs -f, for instance)."""
        return subprocess.Popen(
            [*self.argv, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )


def podman() -> Engine:
    """Podman with runc and the project's containers.conf; EngineError when podman is not installed."""
    if shutil.which("podman") is None:
        raise EngineError(
            "podman is not installed: `apt-get install podman runc` (docs/deployment.md, 'Container images')"
        )
    if shutil.which("runc") is None:
        raise EngineError("runc is not installed: `apt-get install runc` (crun fails on these machines)")
    env = {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}
    return Engine("podman", ("podman", "--runtime", "runc"), env)


def docker_answers() -> bool:
    """Whether a Docker daemon answers (the client alone, as on these machines, is not enough)."""
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=DOCKER_PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return probe.returncode == 0 and bool(probe.stdout.strip())


def detect() -> Engine:
    """Docker (with BuildKit, for build secrets) where its daemon answers, else podman."""
    if docker_answers():
        return Engine("docker", ("docker",), {**os.environ, "DOCKER_BUILDKIT": "1"})
    return podman()
