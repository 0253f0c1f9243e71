"""A stand-in backend for the gateway: a gamekit host on loopback serving the test's own servicers."""

from __future__ import annotations

from collections.abc import Sequence

from gamectl.certs import DevPki
from gamekit.security.identity import AccessPolicy
from gamekit.serving.host import ServiceHost
from gamekit.serving.options import DEFAULT_OPTIONS, HostOptions, Register
from gamekit.settings import ServiceSettings


def start_backend(
    dev_pki: DevPki,
    identity: str,
    bindings: Sequence[tuple[str, Register]],
    policy: AccessPolicy,
    options: HostOptions = DEFAULT_OPTIONS,
) -> ServiceHost:
    """A started host on free loopback ports with `identity`'s dev certificate, as that backend has."""
    cert = dev_pki.certs[identity]
    settings = ServiceSettings(
        host="127.0.0.1",
        port=0,
        health_port=0,
        metrics_port=0,
        tls_cert_file=cert.cert_file,
        tls_key_file=cert.key_file,
        tls_ca_file=dev_pki.ca_file,
    )
    return ServiceHost(settings, bindings, policy, options=options).start()
