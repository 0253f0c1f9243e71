"""Kubelet's part, played with podman: a pod sandbox on the private network, its containers, probes, stop.

Each pod is a podman pod: its infra container holds the pod's network namespace on the run's network,
with the names of the Services that select it as network aliases (the cluster DNS part), and its
hostname is the pod's name. Init containers run one by one to completion, then the containers start.
Readiness is asked the way kubelet asks it: the spec's own gRPC probes (port and service) against the
pod's IP, startup probe first. Stopping runs the preStop hook, then SIGTERM, and gives the container
what is left of terminationGracePeriodSeconds to exit 0. Everything is named `<run>-...` and labelled
with the run, so `remove_all` can take it away even after a failure.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.engine import Engine, EngineError
from tools.pods.podspec import Cluster, Pod, PodError, Spec, run_args
from tools.pods.probes import grpc_check
from tools.pods.volumes import write_volumes

LOG_LINES = 40
DEFAULT_GRACE_SECONDS = 30
LABEL = "io.games-platform.make-pods"


@dataclass
class RunningPod:
    """A started pod: its sandbox, its IP on the run's network, and its containers by name."""

    pod: Pod
    sandbox: str
    ip: str
    containers: dict[str, str] = field(default_factory=dict)

    def spec_of(self, container: str) -> Spec:
        """The rendered spec of one of its containers."""
        return next(c for c in self.pod.spec["containers"] if c["name"] == container)


@dataclass
class Kubelet:
    """Runs pods of one `make pods` run on one podman network."""

    engine: Engine
    run_id: str
    network: str
    cluster: Cluster
    sandboxes: list[str] = field(default_factory=list)

    def start_pod(self, pod: Pod, *, aliases: Sequence[str] = (), publish: Sequence[str] = ()) -> RunningPod:
        """Create the sandbox, write the volumes, run init containers to completion, start the containers."""
        sandbox = f"{self.run_id}-{pod.name}"[:63]
        args = [
            "pod",
            "create",
            "--name",
            sandbox,
            "--infra-name",
            f"{sandbox}-infra",
            "--hostname",
            pod.name,
        ]
        args += ["--network", self.network, "--label", f"{LABEL}={self.run_id}"]
        args += [f"--network-alias={alias}" for alias in aliases]
        args += [f"--publish={port}" for port in publish]
        self.engine.run(*args)
        self.sandboxes.append(sandbox)
        self.engine.run("pod", "start", sandbox)
        ip = self.engine.output(
            "inspect",
            f"{sandbox}-infra",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        )
        running = RunningPod(pod, sandbox, ip)
        write_volumes(pod, self.cluster)
        deadline = time.monotonic() + float(pod.spec.get("activeDeadlineSeconds", 600))
        for init in pod.spec.get("initContainers", []):
            name = self._start(running, init)
            code = self.wait_exit(running, name, deadline)
            if code != 0:
                raise PodError(pod.name, init["name"], f"init container exited {code}", self.logs(name))
        for container in pod.spec["containers"]:
            running.containers[container["name"]] = self._start(running, container)
        return running

    def _start(self, running: RunningPod, container: Spec) -> str:
        name = f"{running.sandbox}-{container['name']}"
        image_user = self._image_user(running.pod, container)
        arguments = run_args(running.pod, container, self.cluster, image_user)
        try:
            self.engine.run("run", "--detach", "--name", name, "--pod", running.sandbox, *arguments)
        except EngineError as exc:
            raise PodError(running.pod.name, container["name"], f"podman could not start it: {exc}") from exc
        return name

    def _image_user(self, pod: Pod, container: Spec) -> str:
        found = self.engine.run(
            "image", "inspect", "--format", "{{.Config.User}}", container["image"], check=False
        )
        if found.returncode != 0:
            raise PodError(
                pod.name, container["name"], f"image {container['image']} not found: run `make images`"
            )
        return found.stdout.decode().strip()

    def logs(self, container: str, lines: int = LOG_LINES) -> str:
        """The container's last log lines (stdout and stderr)."""
        result = self.engine.run("logs", "--tail", str(lines), container, check=False)
        return (result.stdout + result.stderr).decode(errors="replace").rstrip()

    def state(self, container: str) -> tuple[str, int, bool]:
        """(status, exit code, OOM-killed) of a container."""
        fields = self.engine.output(
            "inspect", container, "--format", "{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}"
        ).split()
        return fields[0], int(fields[1]), fields[2] == "true"

    def wait_exit(self, running: RunningPod, container: str, deadline: float) -> int:
        """The container's exit code; PodError if it is still running at `deadline` (the Job's deadline)."""
        while time.monotonic() < deadline:
            status, code, oom = self.state(container)
            if status in ("exited", "stopped"):
                if oom:
                    raise PodError(
                        running.pod.name, container, "OOMKilled: over its memory limit", self.logs(container)
                    )
                return code
            time.sleep(0.2)
        raise PodError(
            running.pod.name,
            container,
            "still running at the Job's activeDeadlineSeconds",
            self.logs(container),
        )

    def wait_ready(self, running: RunningPod) -> float:
        """Probe every container as kubelet does until ready; seconds it took. PodError if it never is."""
        started = time.monotonic()
        for spec in running.pod.spec["containers"]:
            name = running.containers[spec["name"]]
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                if kind in spec:
                    self._probe(running, spec["name"], name, kind, spec[kind])
        return time.monotonic() - started

    def _probe(self, running: RunningPod, container: str, name: str, kind: str, probe: Spec) -> None:
        if "grpc" not in probe:
            raise PodError(running.pod.name, container, f"{kind}: only gRPC probes are reproduced locally")
        port, service = int(probe["grpc"]["port"]), probe["grpc"].get("service", "")
        period = float(probe.get("periodSeconds", 10))
        attempts = int(probe.get("failureThreshold", 3))
        # Readiness keeps being asked until it succeeds; give it as long as the startup probe's budget.
        if kind == "readinessProbe":
            attempts = max(attempts, int(120 / period))
        time.sleep(float(probe.get("initialDelaySeconds", 0)))
        last = ""
        for _ in range(attempts):
            status, code, _ = self.state(name)
            if status != "running":
                raise PodError(
                    running.pod.name, container, f"exited {code} before its {kind} passed", self.logs(name)
                )
            ok, last = grpc_check(running.ip, port, service, float(probe.get("timeoutSeconds", 1)))
            if ok:
                return
            time.sleep(period)
        raise PodError(
            running.pod.name,
            container,
            f"{kind} (gRPC port {port}, service {service!r}) failed {attempts} times: {last}",
            self.logs(name),
        )

    def terminate(self, running: RunningPod) -> dict[str, float]:
        """preStop, SIGTERM and the grace period for each container; seconds each took to exit 0."""
        grace = float(running.pod.spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS))
        started = time.monotonic()
        deadline = started + grace
        for spec in running.pod.spec["containers"]:
            hook = spec.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command")
            if hook:
                name = running.containers[spec["name"]]
                try:
                    result = self.engine.run("exec", name, *hook, check=False, timeout=grace)
                except subprocess.TimeoutExpired:
                    raise PodError(
                        running.pod.name, spec["name"], f"preStop {hook} outlived the grace period"
                    ) from None
                if result.returncode != 0:
                    detail = result.stderr.decode(errors="replace").strip()
                    raise PodError(
                        running.pod.name, spec["name"], f"preStop {hook} failed: {detail}", self.logs(name)
                    )
        for name in running.containers.values():
            self.engine.run("kill", "--signal", "TERM", name)
        took = {}
        for container, name in running.containers.items():
            while self.state(name)[0] == "running" and time.monotonic() < deadline:
                time.sleep(0.1)
            status, code, _ = self.state(name)
            if status == "running":
                self.engine.run("kill", "--signal", "KILL", name, check=False)
                raise PodError(
                    running.pod.name, container, f"still running {grace:.0f}s after SIGTERM", self.logs(name)
                )
            if code != 0:
                raise PodError(running.pod.name, container, f"exited {code} after SIGTERM", self.logs(name))
            took[container] = time.monotonic() - started
        return took

    def remove_all(self) -> None:
        """Remove every sandbox (and so every container) of this run; never fails."""
        listed = self.engine.run(
            "pod", "ps", "--quiet", "--filter", f"label={LABEL}={self.run_id}", check=False
        )
        names = set(self.sandboxes) | set(listed.stdout.decode().split())
        if names:
            self.engine.run("pod", "rm", "--force", "--time", "0", *names, check=False)
        self.sandboxes.clear()


def volume_root(work: Path, pod_name: str) -> Path:
    """Where one pod's volumes live on this node."""
    return work / "pods" / pod_name / "volumes"
