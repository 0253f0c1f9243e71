"""mTLS credentials that follow certificate rotation on disk.

cert-manager (and kubelet's projected secrets) replace files by swapping a `..data` symlink, so
changes are detected by `os.stat` through the links (inode, mtime, size), and a new set is only
used once the certificate and key match: a half-rotated pair keeps the previous one in service.
Anything may look for a change (each new handshake, each metrics scrape); the server hands gRPC a new
configuration whenever the material differs from the one it last handed over.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, cast

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization

log = logging.getLogger(__name__)

_Signature = tuple[tuple[int, int, int, int], ...]
# "require": mTLS, a CA-signed client certificate is mandatory. "none": server-side TLS only; grpcio
# offers no "request but do not require" mode, so a certificate a client would show is never asked for.
ClientAuth = Literal["require", "none"]


@dataclass(frozen=True)
class TlsFiles:
    """Where one workload's CA bundle, certificate and key live."""

    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class TlsMaterial:
    """The PEM bytes of a CA bundle, a certificate chain and its key, checked to belong together."""

    ca: bytes
    cert: bytes
    key: bytes
    not_after: datetime = field(compare=False)  # the leaf certificate's expiry (UTC)


def read_material(files: TlsFiles) -> TlsMaterial:
    """Read the three files; raise ValueError if any is unreadable or the key is not the cert's."""
    try:
        ca, cert, key = (
            files.ca_file.read_bytes(),
            files.cert_file.read_bytes(),
            files.key_file.read_bytes(),
        )
    except OSError as exc:
        raise ValueError(f"cannot read TLS files: {exc}") from exc
    x509.load_pem_x509_certificates(ca)
    leaf = x509.load_pem_x509_certificates(cert)[0]
    private_key = serialization.load_pem_private_key(key, password=None)
    if private_key.public_key() != leaf.public_key():
        raise ValueError(f"{files.key_file} does not match {files.cert_file}")
    return TlsMaterial(ca=ca, cert=cert, key=key, not_after=leaf.not_valid_after_utc)


def _signature(files: TlsFiles) -> _Signature:
    stats = [os.stat(path) for path in (files.ca_file, files.cert_file, files.key_file)]
    return tuple((s.st_dev, s.st_ino, s.st_mtime_ns, s.st_size) for s in stats)


class ReloadingTls:
    """The current TLS material of a set of files, re-read when the files change."""

    def __init__(self, files: TlsFiles) -> None:
        self.files = files
        self._lock = threading.Lock()
        self._signature = _signature(files)
        self._material = read_material(files)

    @property
    def material(self) -> TlsMaterial:
        """The material in use."""
        return self._material

    def refresh(self) -> TlsMaterial | None:
        """New material if the files changed to a valid set since last time, else None."""
        with self._lock:
            try:
                signature = _signature(self.files)
                if signature == self._signature:
                    return None
                material = read_material(self.files)
            except (OSError, ValueError) as exc:
                # Mid-rotation (cert written, key not yet): keep serving the old pair, look again later.
                log.warning("TLS files changed but are not usable yet: %s", exc)
                return None
            self._signature = signature
            if material == self._material:
                return None
            self._material = material
            log.info("TLS files reloaded", extra={"fields": {"cert_file": str(self.files.cert_file)}})
            return material

    def expiry_timestamp(self) -> float:
        """Unix time the current certificate expires, after picking up a completed rotation."""
        try:
            self.refresh()
        except Exception:
            # Called at scrape time: a failure here must not turn the whole scrape into an error.
            log.exception("TLS reload failed")
        return self._material.not_after.timestamp()


def _server_config(material: TlsMaterial) -> grpc.ServerCertificateConfiguration:
    return grpc.ssl_server_certificate_configuration([(material.key, material.cert)], material.ca)


def server_credentials(tls: ReloadingTls, *, client_auth: ClientAuth = "require") -> grpc.ServerCredentials:
    """Server credentials (client certs from the CA required unless "none") following `tls`'s files."""
    served = tls.material

    def fetch() -> grpc.ServerCertificateConfiguration | None:
        # gRPC calls this before every new handshake; an exception here would fail the handshake.
        nonlocal served
        try:
            tls.refresh()
        except Exception:
            log.exception("TLS reload failed")
            return None
        # Compared with what gRPC has, not with refresh()'s answer: a scrape may have seen the change first.
        material = tls.material
        if material is served:
            return None
        served = material
        return _server_config(material)

    # The stubs say the fetcher must return a config; gRPC documents None as "no change".
    fetcher = cast(Callable[[], grpc.ServerCertificateConfiguration], fetch)
    return grpc.dynamic_ssl_server_credentials(
        _server_config(served), fetcher, require_client_authentication=client_auth == "require"
    )


def channel_credentials(material: TlsMaterial) -> grpc.ChannelCredentials:
    """Client credentials presenting our certificate and trusting only the platform CA."""
    return grpc.ssl_channel_credentials(
        root_certificates=material.ca, private_key=material.key, certificate_chain=material.cert
    )
