"""Python-side calls the benchmarks make outside k6: channels with an identity, one search."""

from __future__ import annotations

from pathlib import Path

import grpc

from gamectl.certs import ensure_dev_pki
from gamekit.security.tls import TlsFiles, channel_credentials, read_material
from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from gamesclient.channel import open_channel


def identity_files(certs: Path, identity: str) -> TlsFiles:
    """The platform CA and `identity`'s certificate and key in a dev PKI folder (gamectl.certs' layout)."""
    pki = ensure_dev_pki(certs)
    cert = pki.certs[identity]
    return TlsFiles(ca_file=pki.ca_file, cert_file=cert.cert_file, key_file=cert.key_file)


def k6_environment(tls: TlsFiles) -> dict[str, str]:
    """The file paths as the k6 scripts read them (CA_FILE, CERT_FILE, KEY_FILE)."""
    return {"CA_FILE": str(tls.ca_file), "CERT_FILE": str(tls.cert_file), "KEY_FILE": str(tls.key_file)}


def gateway_channel(target: str, tls: TlsFiles, api_key: str) -> grpc.Channel:
    """A caller's channel to a gateway, as `gamesclient` builds it."""
    return open_channel(
        target,
        api_key=api_key,
        ca_file=tls.ca_file,
        cert_file=tls.cert_file,
        key_file=tls.key_file,
        timeout=30,
    )


def direct_channel(target: str, tls: TlsFiles) -> grpc.Channel:
    """A plain mTLS channel to a service, presenting `tls` (no key, no retries)."""
    credentials = channel_credentials(read_material(tls))
    return grpc.secure_channel(target, credentials, [("grpc.max_receive_message_length", 64 << 20)])


def search(channel: grpc.Channel, query: str) -> pb.SearchGamesResponse:
    """One SearchGames call."""
    response: pb.SearchGamesResponse = pb_grpc.CatalogServiceStub(channel).SearchGames(
        pb.SearchGamesRequest(query=query), timeout=30
    )
    return response
