"""The gateway's composition root: settings in, a ready-to-serve set of parts out."""

from __future__ import annotations

from dataclasses import dataclass, field

from gamekit.security.identity import AccessPolicy
from gamekit.serving.options import HostOptions, ServiceBinding
from gateway.cache.responses import ResponseCache
from gateway.cache.revision import RevisionFollower
from gateway.callers.auth import Authenticator, KeyLookup, Limiter
from gateway.callers.keys import KeyStore
from gateway.ratelimit.limiter import RateLimiter
from gateway.settings import GatewaySettings
from gateway.surface import CATALOG, INGESTION
from gateway.transport.backends import Backends, connect
from gateway.transport.forwarding import Forwarder
from gateway.transport.servicers import proxy_binding


@dataclass
class GatewayApp:
    """Everything a gateway process runs, built from settings; `close` releases it."""

    settings: GatewaySettings
    backends: Backends
    cache: ResponseCache
    follower: RevisionFollower
    authenticator: Authenticator
    forwarder: Forwarder
    limiter: Limiter
    _closed: bool = field(default=False, repr=False)

    @property
    def bindings(self) -> list[ServiceBinding]:
        """Both proxied services."""
        return [
            proxy_binding(CATALOG, self.backends.catalog, self.forwarder),
            proxy_binding(INGESTION, self.backends.ingestion, self.forwarder),
        ]

    @property
    def policy(self) -> AccessPolicy:
        """Any peer gets in; the gateway's own gate (Authenticator.gate) decides per call."""
        return AccessPolicy.open_to_all()

    @property
    def host_options(self) -> HostOptions:
        """How gamekit's ServiceHost / serve runs the gateway: its gate, its callers' TLS, its limits."""
        return HostOptions(
            gate=self.authenticator.gate,
            client_auth=self.settings.client_auth,
            reflection=self.settings.reflection,
            max_receive_message_bytes=self.settings.max_message_bytes,
            compress_responses=True,
            shutdown_hooks=(self.close,),
        )

    def ready(self) -> bool:
        """SERVING while the catalog answers health (see Backends.ready)."""
        return self.backends.ready()

    def close(self) -> None:
        """Stop following the revision, close the backend channels and the rate limiter."""
        if self._closed:
            return
        self._closed = True
        self.follower.stop()
        self.backends.close()
        self.limiter.close()


def build_gateway(
    settings: GatewaySettings, *, keys: KeyLookup | None = None, limiter: Limiter | None = None
) -> GatewayApp:
    """Connect the backends, start following the catalog revision, wire auth and the cache."""
    if keys is None:
        keys = KeyStore(settings.api_keys_file, check_interval=settings.api_keys_reload_seconds)
    if limiter is None:
        limiter = RateLimiter(
            redis_url=settings.redis_url,
            default_rps=settings.rate_limit_rps,
            default_burst=settings.rate_limit_burst,
            replicas=settings.replicas,
        )
    backends = connect(settings)
    cache = ResponseCache(max_entries=settings.cache_max_entries, max_bytes=settings.cache_max_bytes)
    follower = RevisionFollower(backends.catalog, cache).start()
    authenticator = Authenticator(
        keys=keys,
        limiter=limiter,
        identity_scopes=settings.identity_scopes,
        default_max_in_flight=settings.default_max_in_flight,
    )
    forwarder = Forwarder(
        cache=cache,
        max_page_size=settings.max_page_size,
        timeout=settings.backend_timeout_seconds,
        action_timeout=settings.run_timeout_seconds,
    )
    return GatewayApp(
        settings=settings,
        backends=backends,
        cache=cache,
        follower=follower,
        authenticator=authenticator,
        forwarder=forwarder,
        limiter=limiter,
    )
