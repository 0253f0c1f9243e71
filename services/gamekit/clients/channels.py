"""Client channels between services: mTLS that follows rotation, retries, deadline and request id.

`secure_channel` returns a channel whose calls (a) never outlive the incoming call being handled (its
deadline is read from gamekit.call_context), (b) carry its x-request-id, (c) retry UNAVAILABLE on the
idempotent methods named by the caller, through gRPC's own retry support in the service config. W3C trace
context is added by OpenTelemetry's grpc client instrumentation (gamekit.observability.telemetry), which
wraps `grpc.secure_channel`, so it is looked up through the module on every build.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

from gamekit.call_context import (
    CALLER_HEADER,
    REQUEST_ID_HEADER,
    current_caller,
    current_request_id,
    time_remaining,
)
from gamekit.clients.call_details import CallDetails, DetailsInterceptor, replace_details
from gamekit.paging.pages import MAX_MESSAGE_BYTES
from gamekit.security.tls import ReloadingTls, TlsFiles, channel_credentials

DEFAULT_OPTIONS: tuple[tuple[str, Any], ...] = (
    # Pages of every listing are cut below this limit (gamekit.paging.pages), so they always arrive.
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.enable_retries", 1),
)


def service_config(
    idempotent_methods: Iterable[str],
    *,
    max_attempts: int = 5,
    initial_backoff: float = 0.1,
    max_backoff: float = 2.0,
    backoff_multiplier: float = 2.0,
) -> str:
    """A gRPC service config retrying UNAVAILABLE on the given full method names, balancing round robin.

    Round robin spreads calls over every address the target resolves to: behind a headless Kubernetes
    Service that is every ready replica (servers cap connection age, so clients re-resolve and see
    new replicas); behind a single address it changes nothing.
    """
    names = []
    for full in idempotent_methods:
        service, _, method = full.lstrip("/").partition("/")
        if not service or not method:
            raise ValueError(f"not a full method name: {full!r}")
        names.append({"service": service, "method": method})
    config: dict[str, Any] = {"loadBalancingConfig": [{"round_robin": {}}], "methodConfig": []}
    if names:
        config["methodConfig"].append(
            {
                "name": names,
                "retryPolicy": {
                    "maxAttempts": max_attempts,
                    "initialBackoff": f"{initial_backoff}s",
                    "maxBackoff": f"{max_backoff}s",
                    "backoffMultiplier": backoff_multiplier,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        )
    return json.dumps(config)


def channel_options(
    idempotent_methods: Iterable[str] = (),
    *,
    server_name: str | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> list[tuple[str, Any]]:
    """Channel arguments: the defaults, retries on `idempotent_methods`, the TLS name, then `options`."""
    merged = dict(DEFAULT_OPTIONS)
    merged["grpc.service_config"] = service_config(idempotent_methods)
    if server_name:
        # The name the server's certificate is checked against, when it differs from the target host.
        merged["grpc.ssl_target_name_override"] = server_name
    merged.update(dict(options))
    return list(merged.items())


class PropagatingInterceptor(DetailsInterceptor):
    """Shortens the timeout to the incoming call's deadline; forwards its request id and caller."""

    def rewrite(self, details: grpc.ClientCallDetails) -> CallDetails:
        """The call's timeout capped by the incoming deadline, its metadata with the request id."""
        timeout = details.timeout
        remaining = time_remaining()
        if remaining is not None:
            timeout = remaining if timeout is None else min(timeout, remaining)
        metadata = list(details.metadata or ())
        request_id = current_request_id()
        if request_id and not any(key == REQUEST_ID_HEADER for key, _ in metadata):
            metadata.append((REQUEST_ID_HEADER, request_id))
        caller = current_caller()
        if caller:
            metadata.append((CALLER_HEADER, caller))
        return replace_details(details, timeout=timeout, metadata=metadata)


class ReloadingChannel(grpc.Channel):
    """A secure channel rebuilt when the TLS files change, looked at most every `check_interval` s.

    Multi-callables come from the current inner channel on every call, which is what
    `grpc.intercept_channel` asks for per call; `secure_channel` always wraps this in one.
    Replaced channels are closed after `retire_after` seconds, so calls in progress can finish.
    """

    def __init__(
        self,
        target: str,
        files: TlsFiles,
        options: Sequence[tuple[str, Any]],
        *,
        check_interval: float = 5.0,
        retire_after: float = 300.0,
    ) -> None:
        self.target = target
        self._options = list(options)
        self._tls = ReloadingTls(files)
        self._check_interval = check_interval
        self._retire_after = retire_after
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._channel = self._build()
        self._retired: list[tuple[float, grpc.Channel]] = []

    def _build(self) -> grpc.Channel:
        return grpc.secure_channel(self.target, channel_credentials(self._tls.material), self._options)

    def current(self) -> grpc.Channel:
        """The channel for the next call, rebuilt first if the TLS files changed."""
        now = time.monotonic()
        if now - self._checked < self._check_interval:
            return self._channel
        with self._lock:
            self._checked = now
            if self._tls.refresh() is not None:
                self._retired.append((now, self._channel))
                self._channel = self._build()
            expired = [ch for at, ch in self._retired if now - at >= self._retire_after]
            self._retired = [(at, ch) for at, ch in self._retired if now - at < self._retire_after]
        for channel in expired:
            channel.close()
        return self._channel

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> grpc.UnaryUnaryMultiCallable:  # type: ignore[type-arg]
        """Unary multi-callable on the current channel."""
        return self.current().unary_unary(method, *args, **kwargs)

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> grpc.UnaryStreamMultiCallable:  # type: ignore[type-arg]
        """Response-streaming multi-callable on the current channel."""
        return self.current().unary_stream(method, *args, **kwargs)

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> grpc.StreamUnaryMultiCallable:  # type: ignore[type-arg]
        """Request-streaming multi-callable on the current channel."""
        return self.current().stream_unary(method, *args, **kwargs)

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> grpc.StreamStreamMultiCallable:  # type: ignore[type-arg]
        """Bidirectional multi-callable on the current channel."""
        return self.current().stream_stream(method, *args, **kwargs)

    def subscribe(
        self, callback: Callable[[grpc.ChannelConnectivity], None], try_to_connect: bool = False
    ) -> None:
        """Watch connectivity of the current channel."""
        self.current().subscribe(callback, try_to_connect)

    def unsubscribe(self, callback: Callable[[grpc.ChannelConnectivity], None]) -> None:
        """Stop watching connectivity."""
        self._channel.unsubscribe(callback)

    def close(self) -> None:
        """Close the current and every replaced channel."""
        with self._lock:
            channels = [self._channel, *(ch for _, ch in self._retired)]
            self._retired = []
        for channel in channels:
            channel.close()

    def __enter__(self) -> ReloadingChannel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        self.close()
        return None


def secure_channel(
    target: str,
    *,
    ca_file: Path,
    cert_file: Path,
    key_file: Path,
    idempotent_methods: Iterable[str] = (),
    server_name: str | None = None,
    check_interval: float = 5.0,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.Channel:
    """An mTLS channel to `target` following cert rotation, with retries, deadline and request id."""
    files = TlsFiles(ca_file=ca_file, cert_file=cert_file, key_file=key_file)
    merged = channel_options(idempotent_methods, server_name=server_name, options=options)
    inner = ReloadingChannel(target, files, merged, check_interval=check_interval)
    return grpc.intercept_channel(inner, PropagatingInterceptor())
