"""`make check-monitoring`: what SREs see, checked with Prometheus itself (issue 14).

First `promtool check rules` on the alert rules and `promtool test rules` on their unit tests
(tests/monitoring/alerts_test.yaml: for every alert, series where it fires and series where it stays
silent). Then the monitoring scenario (tests/e2e/monitoring): the suite with a real Prometheus
scraping it, a short day played, every dashboard query, the alerts and the exemplars checked through
Prometheus' API. promtool and prometheus come from PATH; where they are missing and this runs as root,
Debian's `prometheus` package is installed with apt-get (as .ci/run does for podman), else the message
says how to get it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from gamectl.prometheuslocal import ALERT_RULES

REPO = Path(__file__).resolve().parents[1]
ALERT_TESTS = REPO / "tests" / "monitoring" / "alerts_test.yaml"
SCENARIO = REPO / "tests" / "e2e" / "monitoring"
PACKAGE = "prometheus"  # Debian's package; it ships promtool and prometheus


class MissingTool(Exception):
    """A program this check needs is not installed, and cannot be installed from here."""


def find_promtool() -> str:
    """promtool's path: from PATH, or installed from Debian's package when running as root."""
    found = shutil.which("promtool")
    if found and shutil.which("prometheus"):
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise MissingTool(
            "promtool or prometheus is not on PATH: install Debian's `prometheus` package "
            "(sudo apt-get install --no-install-recommends prometheus), or put promtool from "
            "https://prometheus.io/download/ on PATH, then run `make check-monitoring` again"
        )
    print(
        f"promtool or prometheus is not on PATH: installing Debian's `{PACKAGE}` package with apt-get",
        flush=True,
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", PACKAGE], check=True, env=env
    )
    found = shutil.which("promtool")
    if not found or not shutil.which("prometheus"):
        raise MissingTool(f"apt-get installed `{PACKAGE}` but promtool or prometheus is still not on PATH")
    return found


def check_rules(promtool: str) -> bool:
    """The rules parse and pass promtool's lint, and every alert's unit tests pass."""
    steps = (
        [promtool, "check", "rules", str(ALERT_RULES.relative_to(REPO))],
        [promtool, "test", "rules", str(ALERT_TESTS.relative_to(REPO))],
    )
    ok = True
    for step in steps:
        print("$", " ".join(["promtool", *step[1:]]), flush=True)
        ok = subprocess.run(step, cwd=REPO).returncode == 0 and ok
    return ok


def check_scenario() -> bool:
    """The suite with Prometheus, a day played, and what Prometheus then shows (tests/e2e/monitoring)."""
    step = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(SCENARIO.relative_to(REPO))]
    print("$", " ".join(["GAMES_CHECK_MONITORING=1", "pytest", *step[5:]]), flush=True)
    env = {**os.environ, "GAMES_CHECK_MONITORING": "1"}
    return subprocess.run(step, cwd=REPO, env=env).returncode == 0


def main() -> int:
    """Run every monitoring check; non-zero when one fails or a tool is missing."""
    try:
        promtool = find_promtool()
    except MissingTool as error:
        print(f"check-monitoring: {error}", file=sys.stderr)
        return 2
    version = subprocess.run([promtool, "--version"], capture_output=True, text=True).stdout
    print(f"check-monitoring: {version.splitlines()[0] if version else promtool}", flush=True)
    if not check_rules(promtool):
        print("check-monitoring: FAILED (alert rules)", file=sys.stderr)
        return 1
    print("check-monitoring: alert rules OK")
    if not check_scenario():
        print("check-monitoring: FAILED (monitoring scenario)", file=sys.stderr)
        return 1
    print("check-monitoring: monitoring scenario OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
