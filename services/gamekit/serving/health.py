"""grpc.health.v1 status that follows the service's own dependencies.

Two servicers hold the same status: one on the mTLS port, one on the plaintext probe port. A thread
asks the readiness check every `interval` seconds and sets every service name (and "", the server
as a whole) to SERVING or NOT_SERVING on both.

One more name, `liveness`, answers SERVING from start to shutdown whatever the dependencies say:
Kubernetes' liveness probe asks for it, so a database outage takes pods out of rotation (readiness)
without restarting them, which would not bring the database back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from grpc_health.v1 import health_pb2

from gamekit.serving.health_service import HealthService

log = logging.getLogger(__name__)

LIVENESS = "liveness"

Readiness = Callable[[], bool]


def always_ready() -> bool:
    """A readiness check for services without dependencies."""
    return True


class HealthReporter:
    """Keeps both health servicers in step with a readiness check until shutdown."""

    def __init__(self, service_names: Sequence[str], readiness: Readiness, *, interval: float = 1.0) -> None:
        self.service_names = ["", *service_names]
        self.readiness = readiness
        self.interval = interval
        self.secure = HealthService()
        self.plaintext = HealthService()
        self._serving: bool | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gamekit-readiness", daemon=True)
        # Until the first check answers, nobody should route traffic here.
        self._set(False)
        for servicer in (self.secure, self.plaintext):
            servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)

    def start(self) -> None:
        """Check once now, then keep checking on a background thread."""
        self.check()
        self._thread.start()

    def check(self) -> bool:
        """Ask the readiness check once and publish the answer."""
        try:
            ready = bool(self.readiness())
        except Exception:
            # Once per outage, not once a second while a dependency is down.
            if self._serving is not False:
                log.exception("readiness check failed")
            ready = False
        self._set(ready)
        return ready

    def shutdown(self) -> None:
        """NOT_SERVING for good on both servicers, end their Watch streams, and stop checking."""
        self._stop.set()
        self.secure.enter_graceful_shutdown()
        self.plaintext.enter_graceful_shutdown()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def _set(self, serving: bool) -> None:
        if serving == self._serving:
            return
        if self._serving is not None:
            log.info("health changed to %s", "SERVING" if serving else "NOT_SERVING")
        self._serving = serving
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in self.service_names:
            self.secure.set(name, status)
            self.plaintext.set(name, status)
