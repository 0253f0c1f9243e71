"""The TypeScript client (clients/typescript) against the whole platform: `node --test` on its tests.

The suite runs in-process (`platform_suite`) with the sample deliveries ingested. Node reads the
suite.json and asks, through files in a control folder, for the catalog to be stopped and started
again while it retries a read. Node 20 or later with npm is required: without them tests/conftest.py
leaves this module out and the run ends with a NOT RUN line saying so.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

from scripts.generate_stubs import node_modules, run_in_client
from tests.e2e.conftest import E2ESuite
from tests.fixtures.servers import wait_serving

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"
NODE_TIMEOUT_SECONDS = 600.0


def install_and_build() -> None:
    """`npm ci` when package-lock.json changed since the last one, then the client and its tests."""
    node_modules()
    run_in_client("npm", "run", "build")
    run_in_client("npm", "run", "build:test")


class CatalogRestarter(threading.Thread):
    """Stops the catalog when node asks (`stop-catalog`), starts it when asked (`start-catalog`)."""

    def __init__(self, suite: E2ESuite, control: Path) -> None:
        super().__init__(name="catalog-restarter", daemon=True)
        self.suite, self.control = suite, control
        self.done = threading.Event()
        self.error: BaseException | None = None

    def _asked(self, name: str) -> bool:
        while not (self.control / name).exists():
            if self.done.wait(0.1):
                return False
        return True

    def run(self) -> None:
        try:
            catalog = self.suite.service("catalog")
            if not self._asked("stop-catalog"):
                return
            assert self.suite.stop_process(catalog) == 0, "the catalog drains and exits 0"
            (self.control / "catalog-stopped").touch()
            asked_to_start = self._asked("start-catalog")
            catalog = self.suite.start_again(catalog)
            if not asked_to_start:
                return
            wait_serving(catalog)
            (self.control / "catalog-serving").touch()
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error


def test_typescript_client_against_the_suite(platform_suite: E2ESuite, tmp_path: Path) -> None:
    install_and_build()
    assert platform_suite.suite.ingest_once() == 0, "the sample deliveries are ingested"
    control = tmp_path / "control"
    control.mkdir()
    restarter = CatalogRestarter(platform_suite, control)
    restarter.start()
    env = {
        **os.environ,
        "GAMES_SUITE": str(platform_suite.suite.suite_file),
        "GAMES_CONTROL_DIR": str(control),
    }
    try:
        result = subprocess.run(
            ["node", "--test", "--test-reporter=spec", "dist-test/test/"],
            cwd=CLIENT,
            env=env,
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_SECONDS,
            check=False,
        )
    finally:
        restarter.done.set()
        restarter.join(timeout=120)
    print(result.stdout)
    assert restarter.error is None, f"restarting the catalog failed: {restarter.error!r}"
    assert result.returncode == 0, f"node --test failed:\n{result.stdout[-6000:]}{result.stderr[-3000:]}"


def test_typescript_client_is_strict_and_lint_clean() -> None:
    """`tsc --strict` on the client and its tests, and ESLint's type-checked recommended rules."""
    node_modules()
    run_in_client("npm", "run", "lint")
