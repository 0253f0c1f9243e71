"""The install, its use and its removal, in the order a cluster runs them, all through containers.

Helm's pre-install hook (the migrations Job) runs first and must complete; then every Deployment's pod
starts and is probed until ready; `helm test` (the chart's test pod) must pass; gamectl, on this
machine, creates and searches a game over mTLS through the gateway pod's published port; the CronJob's
job (`ingestion run-once`) imports the sample delivery from moto, which a search then finds; finally
every container gets its preStop and SIGTERM, and must exit 0 within its grace period.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.pods.chart import NAMESPACE, Manifest, is_hook, of_kind, pod_template, service_aliases
from tools.pods.kubelet import Kubelet, RunningPod, volume_root
from tools.pods.podspec import Pod, PodError

GAMECTL = Path(sys.executable).parent / "gamectl"
GAMECTL_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Client:
    """How gamectl on this machine reaches the gateway pod: address, mTLS files, API key."""

    target: str
    ca: Path
    cert: Path
    key: Path
    api_key: str
    root: Path

    def gamectl(self, *args: str) -> Any:
        """Run one gamectl command with --json; its parsed output, or RuntimeError with its stderr."""
        connection = ["--target", self.target, "--ca", str(self.ca), "--tls-cert", str(self.cert)]
        connection += ["--tls-key", str(self.key), "--key", self.api_key, "--json"]
        command = [str(GAMECTL), "--root", str(self.root), *args[:2], *connection, *args[2:]]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=GAMECTL_TIMEOUT_SECONDS, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"gamectl {' '.join(args)} exited {result.returncode}: {result.stderr.strip()}"
            )
        return json.loads(result.stdout)


def make_pod(workload: Manifest, work: Path) -> Pod:
    """A pod of this workload, named as its controller would name it."""
    name = f"{workload['metadata']['name']}-{secrets.token_hex(3)}"[:63]
    template = pod_template(workload)
    spec = template["spec"]
    return Pod(name, NAMESPACE, spec, volume_root(work, name), spec.get("serviceAccountName", "default"))


def step(label: str, started: float) -> None:
    """One line per phase, with the seconds since the run began."""
    print(f"[{time.monotonic() - started:6.1f}s] {label}", flush=True)


def run_job(kubelet: Kubelet, workload: Manifest, work: Path) -> RunningPod:
    """Run a Job's (or a CronJob's job's) pod to completion, as the Job controller does: a pod whose
    container exits non-zero is replaced by a new one up to the Job's `backoffLimit` times (each failure
    printed with its log); PodError when the last one fails too. A bare Pod (helm test) runs once."""
    job = workload["spec"]["jobTemplate"]["spec"] if workload["kind"] == "CronJob" else workload["spec"]
    retries = int(job.get("backoffLimit", 6)) if workload["kind"] in ("Job", "CronJob") else 0
    attempt = 0
    while True:
        running, failure = _run_to_completion(kubelet, make_pod(workload, work))
        if failure is None:
            return running
        if attempt == retries:
            raise failure
        attempt += 1
        print(f"{failure}\n(the Job starts a new pod: attempt {attempt + 1} of {retries + 1})", flush=True)


def _run_to_completion(kubelet: Kubelet, pod: Pod) -> tuple[RunningPod, PodError | None]:
    running = kubelet.start_pod(pod)
    deadline = time.monotonic() + float(pod.spec.get("activeDeadlineSeconds", 600))
    for container, name in running.containers.items():
        code = kubelet.wait_exit(running, name, deadline)
        if code != 0:
            message = f"the Job's container exited {code}"
            return running, PodError(pod.name, container, message, kubelet.logs(name))
    return running, None


def start_deployments(
    kubelet: Kubelet, objects: list[Manifest], work: Path, gateway_port: int
) -> dict[str, RunningPod]:
    """One pod per Deployment, the gateway's gRPC port published on 127.0.0.1:gateway_port."""
    pods = {}
    for deployment in of_kind(objects, "Deployment"):
        component = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        pod = make_pod(deployment, work)
        try:
            aliases = list(service_aliases(objects, pod_template(deployment)))
        except ValueError as exc:
            raise PodError(pod.name, "-", str(exc)) from exc
        publish = []
        if component == "gateway":
            container = pod.spec["containers"][0]
            grpc = next(p["containerPort"] for p in container["ports"] if p["name"] == "grpc")
            publish = [f"127.0.0.1:{gateway_port}:{grpc}"]
        pods[component] = kubelet.start_pod(pod, aliases=aliases, publish=publish)
    return pods


def create_and_search(client: Client) -> None:
    """CreateGame, then SearchGames finds it: the whole read and write path through the containers."""
    store_id = f"make-pods-{secrets.token_hex(4)}"
    created = client.gamectl(
        "games", "create", "--display-name", "Make Pods Proof", "--platform", "ios", "--store-id", store_id
    )
    names = {game.get("name") for game in _games(client.gamectl("games", "search", "make pods proof"))}
    if created.get("name") not in names:
        raise RuntimeError(
            f"SearchGames did not find the game CreateGame made ({created.get('name')}): {names}"
        )


def search_finds(client: Client, query: str, display_name: str) -> None:
    """SearchGames through the gateway finds a game with this display name."""
    names = {game.get("displayName") for game in _games(client.gamectl("games", "search", query))}
    if display_name not in names:
        raise RuntimeError(
            f"SearchGames {query!r} found {sorted(n for n in names if n)}, not {display_name!r}"
        )


def _games(found: Any) -> list[dict[str, Any]]:
    """The games of a `gamectl games search --json` answer (a list, or a response with `games`)."""
    games = found if isinstance(found, list) else found.get("games", [])
    return [game for game in games if isinstance(game, dict)]


def terminate_all(kubelet: Kubelet, pods: list[RunningPod]) -> dict[str, float]:
    """preStop, SIGTERM and grace period, every pod at once as an uninstall does; seconds per container."""
    with ThreadPoolExecutor(max_workers=max(1, len(pods))) as pool:
        results = list(pool.map(kubelet.terminate, pods))
    return {
        f"{pod.pod.name}/{name}": took
        for pod, result in zip(pods, results, strict=True)
        for name, took in result.items()
    }


def hooks_of(objects: list[Manifest], kind: str, hook: str) -> list[Manifest]:
    """Objects of `kind` that Helm runs at `hook` (pre-install, test)."""
    return [
        o
        for o in of_kind(objects, kind)
        if is_hook(o) and hook in o["metadata"]["annotations"]["helm.sh/hook"]
    ]
