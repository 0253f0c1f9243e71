"""`make check-monitoring`: what SREs see, checked with Prometheus' own tools (issue 14).

Today: `promtool check rules` on the alert rules and `promtool test rules` on their unit tests
(tests/monitoring/alerts_test.yaml: for every alert, series where it fires and series where it stays
silent). promtool comes from PATH; where it is missing and this runs as root, Debian's `prometheus`
package is installed with apt-get (as .ci/run does for podman), else the message says how to get it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ALERTS = REPO / "charts" / "games-platform" / "files" / "alerts.yaml"
ALERT_TESTS = REPO / "tests" / "monitoring" / "alerts_test.yaml"
PACKAGE = "prometheus"  # Debian's package; it ships promtool and prometheus


class MissingTool(Exception):
    """A program this check needs is not installed, and cannot be installed from here."""


def find_promtool() -> str:
    """promtool's path: from PATH, or installed from Debian's package when running as root."""
    found = shutil.which("promtool")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise MissingTool(
            "promtool is not on PATH: install Debian's `prometheus` package "
            "(sudo apt-get install --no-install-recommends prometheus), or put promtool from "
            "https://prometheus.io/download/ on PATH, then run `make check-monitoring` again"
        )
    print(f"promtool is not on PATH: installing Debian's `{PACKAGE}` package with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", PACKAGE], check=True, env=env
    )
    found = shutil.which("promtool")
    if not found:
        raise MissingTool(f"apt-get installed `{PACKAGE}` but promtool is still not on PATH")
    return found


def check_rules(promtool: str) -> bool:
    """The rules parse and pass promtool's lint, and every alert's unit tests pass."""
    steps = (
        [promtool, "check", "rules", str(ALERTS.relative_to(REPO))],
        [promtool, "test", "rules", str(ALERT_TESTS.relative_to(REPO))],
    )
    ok = True
    for step in steps:
        print("$", " ".join(["promtool", *step[1:]]), flush=True)
        ok = subprocess.run(step, cwd=REPO).returncode == 0 and ok
    return ok


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
