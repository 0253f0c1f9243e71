"""Client interceptors that only rewrite a call's details (deadline, metadata), for all four arities."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import grpc


class CallDetails(NamedTuple):
    """The `grpc.ClientCallDetails` an interceptor hands on."""

    method: str
    timeout: float | None
    metadata: Sequence[tuple[str, str | bytes]] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


def replace_details(
    details: grpc.ClientCallDetails, *, timeout: float | None, metadata: Sequence[tuple[str, str | bytes]]
) -> CallDetails:
    """`details` with another timeout and metadata; everything else as the caller gave it."""
    return CallDetails(
        details.method,
        timeout,
        metadata,
        details.credentials,
        getattr(details, "wait_for_ready", None),
        getattr(details, "compression", None),
    )


class DetailsInterceptor(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamStreamClientInterceptor,  # type: ignore[type-arg]
):
    """Passes every call on with the details `rewrite` returns; requests and responses are untouched."""

    @abc.abstractmethod
    def rewrite(self, details: grpc.ClientCallDetails) -> CallDetails:
        """The details the call goes on with."""

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        """Unary call."""
        return continuation(self.rewrite(details), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        """Response-streaming call."""
        return continuation(self.rewrite(details), request)

    def intercept_stream_unary(self, continuation: Callable[..., Any], details: Any, requests: Any) -> Any:
        """Request-streaming call."""
        return continuation(self.rewrite(details), requests)

    def intercept_stream_stream(self, continuation: Callable[..., Any], details: Any, requests: Any) -> Any:
        """Bidirectional call."""
        return continuation(self.rewrite(details), requests)
