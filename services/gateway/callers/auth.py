"""Who is calling and what they may do: API keys, client-certificate identities, scopes, limits.

`Authenticator` is the decision, free of gRPC: a bearer key (or, without one, a client certificate's
SPIFFE id mapped to scopes by settings) names the caller; the method's scope must be among the
caller's; the caller's rate limit must admit the call, and the call must fit within the caller's
limit of calls in flight (gateway.callers.inflight) while it runs. `Authenticator.gate` is the gamekit `Gate`
the platform interceptor runs before every method except health and reflection, turning its errors into
statuses and writing the caller's key id in the call's access line.

    no key and no mapped certificate, unknown, revoked or malformed key  → UNAUTHENTICATED
    known caller without the method's scope                              → PERMISSION_DENIED
    over the caller's rate limit                                          → RESOURCE_EXHAUSTED + RetryInfo
                                                                            (reason RATE_LIMITED)
    as many calls in flight as the caller's limit                         → RESOURCE_EXHAUSTED + RetryInfo
                                                                            (reason TOO_MANY_IN_FLIGHT)

The rate limit is charged before the scope check, so a caller hammering methods it may not call is
slowed down too. Only the request id and the caller's key id (`x-games-caller`) are forwarded to
backends; `authorization` never leaves here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from opentelemetry import trace
from prometheus_client import Counter

from gamekit.call_context import acting_for
from gamekit.errors import PermissionDenied, ResourceExhausted, Unauthenticated
from gamekit.serving.calls import GatedCall
from gateway.callers.inflight import InFlightCounts
from gateway.surface import METHODS

AUTHORIZATION_HEADER = "authorization"
# Nobody knows when a call in flight will end; a second is a polite first wait.
IN_FLIGHT_RETRY_SECONDS = 1.0

DENIED = Counter("gateway_auth_denied_total", "Calls refused by the gateway, by reason.", ["reason"])


class Principal(Protocol):
    """A known caller as the key store describes it (gateway.callers.keys.ApiKey satisfies this)."""

    @property
    def key_id(self) -> str: ...
    @property
    def scopes(self) -> frozenset[str]: ...
    @property
    def rate_limit_rps(self) -> float | None: ...
    @property
    def rate_limit_burst(self) -> int | None: ...
    @property
    def max_in_flight(self) -> int | None: ...


class KeyLookup(Protocol):
    """Finds the caller a bearer key belongs to (gateway.callers.keys.KeyStore)."""

    def authenticate(self, bearer: str) -> Principal | None: ...


class Verdict(Protocol):
    """A rate-limit decision (gateway.ratelimit.limiter.Decision)."""

    @property
    def allowed(self) -> bool: ...
    @property
    def retry_after(self) -> float: ...


class Limiter(Protocol):
    """Admits or refuses one call of a caller (gateway.ratelimit.limiter.RateLimiter)."""

    def check(self, key_id: str, *, rps: float | None = None, burst: int | None = None) -> Verdict: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class CertificateCaller:
    """A caller known by its client certificate's identity; default limits."""

    key_id: str
    scopes: frozenset[str]
    rate_limit_rps: float | None = None
    rate_limit_burst: int | None = None
    max_in_flight: int | None = None


def bearer_token(values: list[str]) -> str | None:
    """The key of the `authorization` values: None if there is none; Unauthenticated if malformed."""
    if not values:
        return None
    if len(values) > 1:
        raise Unauthenticated("send one authorization header", reason="MALFORMED_CREDENTIALS")
    scheme, _, token = values[0].strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("authorization must be 'Bearer <key>'", reason="MALFORMED_CREDENTIALS")
    return token.strip()


class Authenticator:
    """Decides whether one call may proceed, and as whom."""

    def __init__(
        self,
        *,
        keys: KeyLookup,
        limiter: Limiter,
        identity_scopes: Mapping[str, frozenset[str]],
        default_max_in_flight: int = 8,
    ) -> None:
        self._keys = keys
        self._limiter = limiter
        self._identity_scopes = identity_scopes
        self._default_max_in_flight = default_max_in_flight
        self._in_flight = InFlightCounts()

    @contextlib.contextmanager
    def gate(self, call: GatedCall) -> Iterator[None]:
        """gamekit's Gate: admit the call, naming its caller for the access line, and count it in flight
        as that caller until its behaviour returns; backends are told who asked (acting_for)."""
        values = [str(value) for key, value in call.metadata if key == AUTHORIZATION_HEADER]
        caller = self._identify(bearer_token(values), call.peer)
        call.caller = caller.key_id
        self._authorize(call.method, caller)
        trace.get_current_span().set_attribute("gateway.caller", caller.key_id)
        with self.in_flight(caller), acting_for(caller.key_id):
            yield

    def _authorize(self, full_method: str, caller: Principal) -> None:
        decision = self._limiter.check(
            caller.key_id, rps=caller.rate_limit_rps, burst=caller.rate_limit_burst
        )
        if not decision.allowed:
            DENIED.labels("RATE_LIMITED").inc()
            raise ResourceExhausted(
                f"rate limit of {caller.key_id} exceeded", retry_after=decision.retry_after
            )
        method = METHODS.get(full_method)
        if method is None:
            DENIED.labels("UNKNOWN_METHOD").inc()
            raise PermissionDenied(f"{full_method} is not served", reason="UNKNOWN_METHOD")
        if method.scope is not None and method.scope not in caller.scopes:
            DENIED.labels("MISSING_SCOPE").inc()
            raise PermissionDenied(
                f"{caller.key_id} lacks the {method.scope} scope {full_method} needs", reason="MISSING_SCOPE"
            )

    @contextlib.contextmanager
    def in_flight(self, caller: Principal) -> Iterator[None]:
        """Count the block as one of the caller's calls in flight; ResourceExhausted past its limit."""
        limit = caller.max_in_flight or self._default_max_in_flight
        if not self._in_flight.try_enter(caller.key_id, limit):
            DENIED.labels("TOO_MANY_IN_FLIGHT").inc()
            raise ResourceExhausted(
                f"{caller.key_id} has {limit} calls in flight, its limit; retry when one ends",
                retry_after=IN_FLIGHT_RETRY_SECONDS,
                reason="TOO_MANY_IN_FLIGHT",
            )
        try:
            yield
        finally:
            self._in_flight.leave(caller.key_id)

    def _identify(self, bearer: str | None, peer: str | None) -> Principal:
        if bearer is not None:
            key = self._keys.authenticate(bearer)
            if key is None:
                DENIED.labels("UNKNOWN_KEY").inc()
                raise Unauthenticated("unknown or revoked API key", reason="UNKNOWN_KEY")
            return key
        if peer is not None and peer in self._identity_scopes:
            return CertificateCaller(key_id=peer, scopes=self._identity_scopes[peer])
        DENIED.labels("MISSING_CREDENTIALS").inc()
        raise Unauthenticated(
            "send an API key as 'authorization: Bearer <key>'", reason="MISSING_CREDENTIALS"
        )
