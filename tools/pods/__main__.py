"""`make pods`: render the chart, run its pods in podman as kubelet would, use them, stop them, clean up.

What this proves and what only a cluster can is in the chart's README ("What `make pods` proves").
Everything the run makes (pods, containers, the network, images podman built for its pod sandboxes,
its servers and files) is removed on exit, on failure and on Ctrl-C or SIGTERM alike.
"""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from gamectl.net import free_port
from tools.engine import Engine, EngineError, podman
from tools.pods import scenario
from tools.pods.chart import certificate_names, local_values, of_kind, render
from tools.pods.kubelet import Kubelet, RunningPod
from tools.pods.outside import Outside
from tools.pods.podspec import Cluster, Pod, PodError
from tools.pods.scenario import Client, step

SAMPLE_QUERY, SAMPLE_GAME = "pokemon", "Pokémon GO"


def _interrupted(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(engine: Engine, kubelet: Kubelet, work: Path, started: float) -> None:
    """Every phase; raises PodError, EngineError or RuntimeError at the first that fails."""
    subnet, gateway_ip = engine.output(
        "network", "inspect", kubelet.network, "--format", "{{range .Subnets}}{{.Subnet}} {{.Gateway}}{{end}}"
    ).split()
    # netavark brings the bridge (and so its host address) up only while a container is attached: a pod
    # with nothing but its sandbox holds it up, so the servers below can bind that address first.
    kubelet.start_pod(Pod("node", "default", {"containers": []}, work / "node"))
    outside = Outside(work, gateway_ip, subnet)
    try:
        endpoints = outside.start()
        step(f"PostgreSQL, Redis and moto listening on {gateway_ip} (bridge of {kubelet.network})", started)
        values = local_values(endpoints)
        objects = render(values)
        tls = values["tls"]["existingSecrets"]
        for secret in [*of_kind(objects, "Secret"), *outside.tls_secrets(certificate_names(values), tls)]:
            kubelet.cluster.add(secret)
        kubelet.cluster.add(outside.aws_secret())
        for config_map in of_kind(objects, "ConfigMap"):
            kubelet.cluster.add(config_map)
        step(f"chart rendered: {len(objects)} objects", started)

        for job in scenario.hooks_of(objects, "Job", "pre-install"):
            scenario.run_job(kubelet, job, work)
            step(f"hook Job {job['metadata']['name']} completed", started)

        gateway_port = free_port()
        pods = scenario.start_deployments(kubelet, objects, work, gateway_port)
        for running in pods.values():
            took = kubelet.wait_ready(running)
            step(
                f"{running.pod.name} at {running.ip}: startup, readiness, liveness probes in {took:.1f}s",
                started,
            )

        for test in scenario.hooks_of(objects, "Pod", "test"):
            scenario.run_job(kubelet, test, work)
            step(f"helm test pod {test['metadata']['name']} passed", started)

        ca, cert, key = outside.operator_files()
        client = Client(f"localhost:{gateway_port}", ca, cert, key, outside.keys["admin"], work)
        scenario.create_and_search(client)
        step("gamectl over mTLS through the gateway pod: CreateGame, then SearchGames found it", started)

        for cron_job in of_kind(objects, "CronJob"):
            try:
                scenario.run_job(kubelet, cron_job, work)
            except PodError:
                # The job's own log says what it was told; the services' say why (a catalog refusal).
                _print_service_logs(kubelet, pods)
                raise
            step(f"CronJob {cron_job['metadata']['name']}'s job (ingestion run-once) completed", started)
        scenario.search_finds(client, SAMPLE_QUERY, SAMPLE_GAME)
        step(f"SearchGames {SAMPLE_QUERY!r} finds {SAMPLE_GAME!r}, imported from moto by that job", started)

        stopped = scenario.terminate_all(kubelet, list(pods.values()))
        for container, seconds in stopped.items():
            step(f"{container} exited 0 {seconds:.1f}s after its preStop and SIGTERM", started)
    finally:
        outside.stop()


def _print_service_logs(kubelet: Kubelet, pods: dict[str, RunningPod]) -> None:
    for running in pods.values():
        for container, name in running.containers.items():
            print(f"--- last log lines of {running.pod.name}/{container}:\n{kubelet.logs(name)}", flush=True)


def main() -> int:
    """Run everything and clean up; 0 when every phase passed."""
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupted)
    # A shell that starts us in the background ignores SIGINT for us; Ctrl-C must still clean up.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        engine = podman()
    except EngineError as exc:
        print(f"make pods: {exc}", file=sys.stderr)
        return 1
    run_id = f"gp-{int(time.time()) % 100000:05d}"
    images_before = set(engine.output("images", "--quiet", "--no-trunc").split())
    work = Path(tempfile.mkdtemp(prefix="games-pods-", dir="/var/tmp"))
    work.chmod(0o755)  # embedded PostgreSQL's unprivileged user must enter it
    kubelet = Kubelet(engine, run_id, f"{run_id}-net", Cluster())
    code = 1
    try:
        engine.run("network", "create", "--label", f"io.games-platform.make-pods={run_id}", kubelet.network)
        run(engine, kubelet, work, started)
        code = 0
    except PodError as exc:
        print(f"make pods: {exc}", file=sys.stderr)
    except (EngineError, RuntimeError, ValueError) as exc:
        print(f"make pods: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("make pods: interrupted; cleaning up", file=sys.stderr)
        code = 130
    finally:
        kubelet.remove_all()
        engine.run("network", "rm", "--force", kubelet.network, check=False)
        made = set(engine.output("images", "--quiet", "--no-trunc").split()) - images_before
        if made:
            engine.run("rmi", "--force", *made, check=False)
        shutil.rmtree(work, ignore_errors=True)
    step(f"make pods: {'passed' if code == 0 else 'FAILED'}; pods, network and servers removed", started)
    return code


if __name__ == "__main__":
    sys.exit(main())
