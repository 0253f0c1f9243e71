"""A private Prometheus scraping the local suite as the chart's ServiceMonitors scrape a cluster.

`GAMECTL_PROMETHEUS=1 make up` starts one (Debian's `prometheus` package, from PATH): every service's
metrics port is a target with the labels prometheus-operator gives a pod behind the chart's
ServiceMonitors (`job` and `service` the Service's name, `namespace`, `pod`, `container`, `endpoint`,
and the `component` label the ServiceMonitors add), so the alert rules and the dashboards' queries run
here unchanged. The alert rules are loaded from the chart's one file and exemplar storage is on, as the
operations page asks of a cluster's Prometheus. Its data lives in a temporary directory and goes with it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from gamectl.net import free_port
from gamectl.processes import ChildProcess

REPO = Path(__file__).resolve().parents[2]
ALERT_RULES = REPO / "charts" / "games-platform" / "files" / "alerts.yaml"
# The chart's names for a release called games-platform, and the namespace the suite plays.
RELEASE = "games-platform"
NAMESPACE = "local"
START_TIMEOUT_SECONDS = 30.0
MISSING = (
    "GAMECTL_PROMETHEUS=1 needs prometheus on PATH: install Debian's `prometheus` package"
    " (apt-get install --no-install-recommends prometheus), or put the binary from"
    " https://prometheus.io/download/ on PATH"
)


def find_prometheus() -> str:
    """The prometheus binary on PATH; RuntimeError with how to get it otherwise."""
    found = shutil.which("prometheus")
    if found is None:
        raise RuntimeError(MISSING)
    return found


def scrape_config(targets: Mapping[str, str], interval_seconds: float) -> dict[str, object]:
    """prometheus.yml for `targets` (component → host:port of its metrics), in the ServiceMonitors' terms."""
    interval = f"{interval_seconds:g}s"
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(ALERT_RULES)],
        "scrape_configs": [
            {
                "job_name": f"{RELEASE}-{component}",
                "metrics_path": "/metrics",
                "static_configs": [
                    {
                        "targets": [address],
                        "labels": {
                            "namespace": NAMESPACE,
                            "service": f"{RELEASE}-{component}",
                            "pod": f"{RELEASE}-{component}-local",
                            "container": component,
                            "endpoint": "metrics",
                            "component": component,
                        },
                    }
                ],
            }
            for component, address in sorted(targets.items())
        ],
    }


class PrometheusProcess:
    """One prometheus process on a free loopback port, scraping `targets` every `interval_seconds`."""

    def __init__(
        self,
        binary: str,
        targets: Mapping[str, str],
        *,
        interval_seconds: float = 2.0,
        host: str = "127.0.0.1",
    ) -> None:
        self._binary = binary
        self._targets = dict(targets)
        self._interval = interval_seconds
        self.host = host
        self.port = 0
        self._dir = tempfile.TemporaryDirectory(prefix="prometheus-")
        self._child: ChildProcess | None = None

    @property
    def address(self) -> str:
        """host:port of its HTTP API and UI."""
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        """Write the configuration, start prometheus and wait until it is ready to serve queries."""
        root = Path(self._dir.name)
        config = root / "prometheus.yml"
        # JSON is YAML: no YAML writer needed for a file only prometheus reads.
        config.write_text(json.dumps(scrape_config(self._targets, self._interval), indent=2))
        self.port = free_port(self.host)
        self._child = ChildProcess(
            [
                self._binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={root / 'data'}",
                f"--web.listen-address={self.address}",
                "--enable-feature=exemplar-storage",
                "--web.enable-lifecycle",
            ]
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._ready():
            if not self._child.running or time.monotonic() > deadline:
                output = self._child.output_tail()
                self.close()
                raise RuntimeError(f"prometheus did not start on {self.address}:\n{output}")
            time.sleep(0.1)

    def close(self) -> None:
        """Stop prometheus and remove its data."""
        child, self._child = self._child, None
        if child is not None:
            child.stop()
        self._dir.cleanup()

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.address}/-/ready", timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False
