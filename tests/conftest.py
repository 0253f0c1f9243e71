import os
import re
import shutil
import subprocess
from typing import Any

import pytest

# Every helper module under tests/fixtures gets pytest's assert messages, whoever imports it first: a
# test module, or the layer conftest that loads it as a plugin (tests.fixtures.plugins).
pytest.register_assert_rewrite("tests.fixtures")

# Only what every layer uses (the unit tests too); the servers' plugins are loaded by the layers that
# start servers (tests/integration/conftest.py, tests/e2e/conftest.py).
pytest_plugins = ["tests.fixtures.pki"]

# The monitoring scenario needs Debian's `prometheus` on PATH: `make check-monitoring` installs it and runs
# that folder with GAMES_CHECK_MONITORING=1; `make test` runs everything else.
MONITORING_LEFT_OUT = os.environ.get("GAMES_CHECK_MONITORING") != "1"
collect_ignore = ["e2e/monitoring"] if MONITORING_LEFT_OUT else []


def _node_major() -> int:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        return 0
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.match(r"v(\d+)\.", version.strip())
    return int(match.group(1)) if match else 0


# The TypeScript client's tests need Node.js 20+ with npm (.ci/run has it). Where it is missing they are
# not collected, and the end of the run says so in one line (pytest_terminal_summary below).
NODE_MISSING = _node_major() < 20
if NODE_MISSING:
    collect_ignore += ["e2e/test_typescript_client.py", "contracts/test_typescript_generated.py"]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One clear line for each part of the suite this run left out, and what runs it."""
    asked = [arg.rstrip("/") for arg in terminalreporter.config.args] or ["tests"]
    if MONITORING_LEFT_OUT and any(arg in ("tests", "tests/e2e") for arg in asked):
        terminalreporter.write_line(
            "NOT RUN: the monitoring scenario (tests/e2e/monitoring): `make check-monitoring` runs it",
            yellow=True,
        )
    if NODE_MISSING:
        terminalreporter.write_line(
            "NOT RUN: the TypeScript client's tests (clients/typescript) need Node.js 20+ and npm on PATH",
            yellow=True,
            bold=True,
        )
