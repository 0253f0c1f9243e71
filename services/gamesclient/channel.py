"""The channel to the gateway: TLS (client certificate optional), retries, the API key, a deadline.

Retries are gRPC's own (a service config retrying UNAVAILABLE on the idempotent reads only), so a
gateway or catalog restart is invisible to readers and a write is never sent twice by the client.
Every call carries `authorization: Bearer <key>` and, unless the caller gives one, a default deadline.
Responses compressed with gzip are accepted (the channel advertises identity, deflate and gzip).
"""

from __future__ import annotations

from pathlib import Path

import grpc

from gamekit.clients.call_details import CallDetails, DetailsInterceptor, replace_details
from gamekit.clients.channels import ReloadingChannel, channel_options
from gamekit.security.tls import TlsFiles

AUTHORIZATION_HEADER = "authorization"
# Bits of grpc_compression_algorithm: identity (0), deflate (1), gzip (2).
ACCEPTED_COMPRESSION = 0b111
READ_METHODS = (
    "/games.catalog.v1.CatalogService/GetGame",
    "/games.catalog.v1.CatalogService/ListGames",
    "/games.catalog.v1.CatalogService/SearchGames",
    "/games.catalog.v1.CatalogService/GetImport",
    "/games.catalog.v1.CatalogService/ListImports",
    "/games.ingestion.v1.IngestionService/GetRun",
    "/games.ingestion.v1.IngestionService/ListRuns",
    "/games.ingestion.v1.IngestionService/ListFiles",
    "/games.ingestion.v1.IngestionService/ListQuarantinedRecords",
)


class AuthInterceptor(DetailsInterceptor):
    """Adds the bearer key to every call, and `timeout` seconds as the deadline when none is given."""

    def __init__(self, api_key: str, timeout: float | None) -> None:
        if any(c.isspace() for c in api_key):
            raise ValueError("an API key cannot contain whitespace")
        self._header = (AUTHORIZATION_HEADER, f"Bearer {api_key}") if api_key else None
        self._timeout = timeout

    def rewrite(self, details: grpc.ClientCallDetails) -> CallDetails:
        """The call's metadata with this key as its only authorization, and the default deadline."""
        metadata = [(k, v) for k, v in details.metadata or () if k != AUTHORIZATION_HEADER]
        if self._header is not None:
            metadata.append(self._header)
        timeout = self._timeout if details.timeout is None else details.timeout
        return replace_details(details, timeout=timeout, metadata=metadata)


def open_channel(
    target: str,
    *,
    api_key: str,
    ca_file: Path,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    timeout: float | None = 5.0,
    server_name: str | None = None,
) -> grpc.Channel:
    """A TLS channel to `target` trusting `ca_file`, presenting the client certificate if given."""
    if (cert_file is None) != (key_file is None):
        raise ValueError("give both a client certificate and its key, or neither")
    options = channel_options(
        READ_METHODS,
        server_name=server_name,
        options=[("grpc.compression_enabled_algorithms_bitset", ACCEPTED_COMPRESSION)],
    )
    inner: grpc.Channel
    if cert_file is not None and key_file is not None:
        # Follows cert-manager rotation of the client certificate, as the services' own channels do.
        inner = ReloadingChannel(target, TlsFiles(ca_file, cert_file, key_file), options)
    else:
        try:
            ca = ca_file.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read the CA file: {exc}") from exc
        inner = grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=ca), options)
    return grpc.intercept_channel(inner, AuthInterceptor(api_key, timeout))
