"""grpc.health.v1 served without a thread per open Watch, and without grpcio's deadlock.

grpcio's own HealthServicer serves `Watch` non-blocking (an open stream is a callback, not a handler
thread), but it sends each update while holding the lock that a closing stream's callback takes on the
server's polling thread, and a send waits for that very thread: a Watch that ends while the status
changes stops the whole server (grpc/grpc#43403). This servicer behaves the same with two locks:
`_table` guards the statuses and the watchers and is never held while sending; `_sending` keeps each
watcher's updates in order and is never taken on the polling thread.

Shutting down also ends every open Watch (after its NOT_SERVING), so idle watchers cannot hold the
drain, and with it the port, for the whole grace period.
"""

from __future__ import annotations

import threading
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gamekit.serving.handlers import SendResponse, mark_non_blocking

Status = int  # a health_pb2.HealthCheckResponse.ServingStatus value
SERVING: Status = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING: Status = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN: Status = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN


class HealthService(health_pb2_grpc.HealthServicer):  # type: ignore[misc]
    """Check and Watch over a table of statuses that `set` changes; "" (the whole server) starts SERVING."""

    def __init__(self) -> None:
        self._table = threading.Lock()
        self._sending = threading.RLock()
        self._statuses: dict[str, Status] = {"": SERVING}
        self._watchers: dict[str, set[SendResponse]] = {}
        self._shut_down = False

    def Check(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        """The status of one service; NOT_FOUND for a name never set."""
        with self._table:
            status = self._statuses.get(request.service)
        if status is None:
            context.set_code(grpc.StatusCode.NOT_FOUND)
            return health_pb2.HealthCheckResponse()
        return health_pb2.HealthCheckResponse(status=status)

    def Watch(  # noqa: N802
        self, request: Any, context: grpc.ServicerContext, send_response_callback: SendResponse | None = None
    ) -> None:
        """Send the status of one service now and on every change, until the caller leaves."""
        if send_response_callback is None:
            context.abort(grpc.StatusCode.INTERNAL, "health Watch lost its non-blocking mark")
        send = send_response_callback
        service = request.service
        with self._sending:
            with self._table:
                status = self._statuses.get(service, SERVICE_UNKNOWN)
                ended = self._shut_down
                if not ended:
                    self._watchers.setdefault(service, set()).add(send)
            send(health_pb2.HealthCheckResponse(status=status))
            if ended:
                send(None)
                return
        if not context.add_callback(lambda: self._forget(service, send)):
            self._forget(service, send)

    def set(self, service: str, status: Status) -> None:
        """Set the status of `service` and send it to its watchers; ignored once shut down."""
        with self._sending:
            with self._table:
                if self._shut_down:
                    return
                self._statuses[service] = status
                watchers = list(self._watchers.get(service, ()))
            response = health_pb2.HealthCheckResponse(status=status)
            for send in watchers:
                send(response)

    def enter_graceful_shutdown(self) -> None:
        """NOT_SERVING for every service for good, then end every Watch."""
        with self._sending:
            with self._table:
                names = [] if self._shut_down else list(self._statuses)
            for name in names:
                self.set(name, NOT_SERVING)
            with self._table:
                self._shut_down = True
                watchers = [send for sends in self._watchers.values() for send in sends]
                self._watchers.clear()
            for send in watchers:
                send(None)

    def _forget(self, service: str, send: SendResponse) -> None:
        with self._table:
            watchers = self._watchers.get(service)
            if watchers is not None:
                watchers.discard(send)
                if not watchers:
                    del self._watchers[service]


mark_non_blocking(HealthService.Watch)
