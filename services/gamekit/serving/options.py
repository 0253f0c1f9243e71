"""What a service host is given besides its settings: the services it hosts, and its options.

Apart from `host.py` so that an app can say how it is hosted (its `host_options`) without the host's
machinery, and a newcomer reads the knobs in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from gamekit.security.tls import ClientAuth

if TYPE_CHECKING:  # the interceptor's machinery is the host's business, not an app's
    from gamekit.serving.calls import Gate

MiB = 1024 * 1024
Register = Callable[[grpc.Server], None]


@dataclass(frozen=True)
class ServiceBinding:
    """A service to host: its full proto name and the generated add_*_to_server call for it."""

    name: str
    register: Register


@dataclass(frozen=True)
class HostOptions:
    """How a service's host differs from the defaults: hooks, its own checks, transport knobs.

    `drain_hooks` run as stopping begins, before the drain: they end streams that never finish on their
    own (a revision watch), which would otherwise hold the drain, and so the port, for the whole grace
    period. `shutdown_hooks` run after the drain (dispose an engine, close a pool).
    `client_auth="none"` serves TLS without asking for client certificates (with an
    `AccessPolicy.open_to_all()` policy and an interceptor of the service's own to authenticate);
    `reflection=False` leaves the reflection service out; `compress_responses=True` compresses responses
    for callers that accept gzip (or deflate); `gate` is the service's own check of each call, run by the
    platform interceptor (gamekit.serving.calls.Gate); `reuse_port=True` shares the gRPC ports with the other
    processes of the pod (gamekit.serving.workers), which then take turns at new connections; `metrics_host`
    binds the metrics port elsewhere than the gRPC ports (a worker's, on loopback, read by its supervisor).
    """

    max_workers: int = 16
    readiness_interval: float = 1.0
    max_receive_message_bytes: int = 4 * MiB
    max_send_message_bytes: int = 16 * MiB
    shutdown_hooks: tuple[Callable[[], None], ...] = ()
    drain_hooks: tuple[Callable[[], None], ...] = ()
    interceptors: tuple[grpc.ServerInterceptor[Any, Any], ...] = ()
    client_auth: ClientAuth = "require"
    reflection: bool = True
    compress_responses: bool = False
    gate: Gate | None = None
    reuse_port: bool = False
    metrics_host: str | None = None


DEFAULT_OPTIONS = HostOptions()
