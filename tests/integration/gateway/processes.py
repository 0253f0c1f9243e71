"""The environment a `python -m gateway serve` process gets in front of the integration platform."""

from __future__ import annotations

import os

from gamectl.certs import DevPki
from tests.fixtures.gateway import Platform


def gateway_env(dev_pki: DevPki, platform: Platform, **overrides: str) -> dict[str, str]:
    """os.environ plus the platform's backends, keys file and certificates; `overrides` as GATEWAY_<NAME>."""
    cert = dev_pki.certs["gateway"]
    env = {
        **os.environ,
        "GATEWAY_CATALOG_TARGET": platform.catalog.target,
        "GATEWAY_INGESTION_TARGET": f"127.0.0.1:{platform.ingestion.port}",
        "GATEWAY_API_KEYS_FILE": str(platform.keys.path),
        "GATEWAY_TLS_CERT_FILE": str(cert.cert_file),
        "GATEWAY_TLS_KEY_FILE": str(cert.key_file),
        "GATEWAY_TLS_CA_FILE": str(dev_pki.ca_file),
        "GATEWAY_METRICS_PORT": "0",
        "OTEL_SDK_DISABLED": "true",
    }
    env.update({f"GATEWAY_{name.upper()}": value for name, value in overrides.items()})
    return env
