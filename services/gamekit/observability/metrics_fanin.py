"""One /metrics for a pod whose service runs as several processes (gamekit.serving.workers).

Each worker process keeps its own registry and serves it on a loopback port of its own (127.0.0.1,
WORKER_METRICS_HOST); the supervisor serves the pod's metrics port, and each scrape of
it reads every worker's metrics in the OpenMetrics format and passes them on with a `worker` label
added. Exemplars (the trace id of a latency observation) pass through untouched, which
prometheus_client's multiprocess mode would drop; and every series stays a worker's own, so
`sum by (...)` in the rules and dashboards adds them up as it adds up pods.
"""

from __future__ import annotations

import http.client
import logging
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
# A worker that does not answer within this is left out of the scrape rather than holding it.
SCRAPE_TIMEOUT_SECONDS = 2.0
WORKER_LABEL = "worker"
# Where a worker serves its own metrics: for its supervisor only, never the pod's network.
WORKER_METRICS_HOST = "127.0.0.1"


def scrape(port: int, host: str = WORKER_METRICS_HOST) -> str:
    """One worker's metrics, in the OpenMetrics text format."""
    request = urllib.request.Request(f"http://{host}:{port}/metrics", headers={"Accept": OPENMETRICS})
    with urllib.request.urlopen(request, timeout=SCRAPE_TIMEOUT_SECONDS) as response:  # noqa: S310 - loopback http
        return str(response.read().decode())


def labelled(text: str, worker: str) -> Iterator[Metric]:
    """The metric families of `text`, each sample labelled with `worker`."""
    for family in text_string_to_metric_families(text):  # type: ignore[no-untyped-call]
        copy = Metric(family.name, family.documentation, family.type, family.unit)
        copy.samples = [
            sample._replace(labels={**sample.labels, WORKER_LABEL: worker}) for sample in family.samples
        ]
        yield copy


class WorkerMetrics(Collector):
    """Collects every live worker's metrics at scrape time; `ports()` says which worker serves where.

    The workers are read side by side, each within SCRAPE_TIMEOUT_SECONDS, so a hung worker costs a
    scrape that long and no more. A worker that cannot be read or parsed (being restarted, dying
    mid-answer) is left out of that scrape, and the others still answer.
    """

    def __init__(self, ports: Callable[[], Mapping[int, int]], read: Callable[[int], str] = scrape) -> None:
        self._ports = ports
        self._read = read
        # A thread per worker, up to the 64 processes GATEWAY_PROCESSES allows, so hung workers are waited
        # for side by side; the pool starts threads only as a scrape needs them.
        self._pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="metrics-fanin")

    def _families(self, index: int, port: int) -> list[Metric]:
        try:
            return list(labelled(self._read(port), str(index)))
        except (OSError, ValueError, http.client.HTTPException) as error:
            log.warning("worker metrics unreadable", extra={"fields": {"worker": index, "error": str(error)}})
            return []

    def collect(self) -> Iterator[Metric]:
        """Every worker's families, merged by name: one family per name, as the formats require."""
        ports = sorted(self._ports().items())
        families: dict[str, Metric] = {}
        for found in self._pool.map(lambda item: self._families(*item), ports):
            for family in found:
                merged = families.setdefault(family.name, family)
                if merged is not family:
                    merged.samples.extend(family.samples)
        yield from families.values()
