"""Python-side calls the benchmarks make outside k6: channels with an identity, one search."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from games.catalog.v1 import catalog_pb2 as pb
from games.catalog.v1 import catalog_pb2_grpc as pb_grpc
from gamesclient.channel import open_channel


@dataclass(frozen=True)
class Tls:
    """PEM files of one mTLS identity: the platform CA, a certificate and its key."""

    ca: Path
    cert: Path
    key: Path

    def credentials(self) -> grpc.ChannelCredentials:
        """Channel credentials presenting this identity."""
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca.read_bytes(),
            private_key=self.key.read_bytes(),
            certificate_chain=self.cert.read_bytes(),
        )

    def k6_environment(self) -> dict[str, str]:
        """The file paths as the k6 scripts read them (CA_FILE, CERT_FILE, KEY_FILE)."""
        return {"CA_FILE": str(self.ca), "CERT_FILE": str(self.cert), "KEY_FILE": str(self.key)}


def gateway_channel(target: str, tls: Tls, api_key: str) -> grpc.Channel:
    """A caller's channel to a gateway, as `gamesclient` builds it."""
    return open_channel(
        target, api_key=api_key, ca_file=tls.ca, cert_file=tls.cert, key_file=tls.key, timeout=30
    )


def direct_channel(target: str, tls: Tls) -> grpc.Channel:
    """A plain mTLS channel to a service, presenting `tls` (no key, no retries)."""
    return grpc.secure_channel(target, tls.credentials(), [("grpc.max_receive_message_length", 64 << 20)])


def search(channel: grpc.Channel, query: str) -> pb.SearchGamesResponse:
    """One SearchGames call."""
    response: pb.SearchGamesResponse = pb_grpc.CatalogServiceStub(channel).SearchGames(
        pb.SearchGamesRequest(query=query), timeout=30
    )
    return response
