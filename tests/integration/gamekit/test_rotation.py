"""Certificates rotated on disk are used by new connections, without restarting anything."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import urllib.request

import grpc
import pytest
from cryptography import x509
from prometheus_client.parser import text_string_to_metric_families

from gamectl.certs import issue_cert, spiffe_id
from games.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from tests.integration.gamekit.conftest import settings_for

REQUEST = catalog_pb2.GetGameRequest(name="games/1")


def _served_serial(port, pki) -> int:
    """The serial of the certificate the server presents to a new TLS connection."""
    context = ssl.create_default_context(cafile=str(pki.ca_file))
    operator = pki.certs["operator"]
    context.load_cert_chain(str(operator.cert_file), str(operator.key_file))
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der).serial_number


def _serial(path) -> int:
    return x509.load_pem_x509_certificate(path.read_bytes()).serial_number


def _scraped_expiry(port) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    return families["tls_certificate_expiry_timestamp_seconds"].samples[0].value


def _not_after(path) -> float:
    return x509.load_pem_x509_certificate(path.read_bytes()).not_valid_after_utc.timestamp()


def _kubernetes_secret_dir(root, version, issued, ca_file):
    """Lay out files the way kubelet projects a Secret: real files under ..<version>, links to them."""
    data = root / f"..{version}"
    data.mkdir()
    shutil.copy(issued.cert_file, data / "tls.crt")
    shutil.copy(issued.key_file, data / "tls.key")
    shutil.copy(ca_file, data / "ca.crt")
    link = root / "..data_tmp"
    link.symlink_to(data.name)
    os.replace(link, root / "..data")  # the atomic swap kubelet does
    for name in ("tls.crt", "tls.key", "ca.crt"):
        if not (root / name).is_symlink():
            (root / name).symlink_to(f"..data/{name}")


def test_server_picks_up_a_rotated_secret(start_host, open_channel, dev_pki, tmp_path):
    issue = dict(ca_file=dev_pki.ca_file, ca_key_file=dev_pki.ca_key_file, name="catalog")
    first = issue_cert(out_dir=tmp_path / "v1", **issue)
    secret = tmp_path / "secret"
    secret.mkdir()
    _kubernetes_secret_dir(secret, "v1", first, dev_pki.ca_file)
    settings = settings_for(
        dev_pki,
        tls_cert_file=secret / "tls.crt",
        tls_key_file=secret / "tls.key",
        tls_ca_file=secret / "ca.crt",
    )
    host = start_host(settings=settings)
    assert _served_serial(host.port, dev_pki) == _serial(first.cert_file)
    assert _scraped_expiry(host.metrics_port) == _not_after(first.cert_file)

    second = issue_cert(out_dir=tmp_path / "v2", valid_days=60, **issue)
    _kubernetes_secret_dir(secret, "v2", second, dev_pki.ca_file)
    # The scrape sees the rotation first; the next handshake must still get the new certificate.
    assert _scraped_expiry(host.metrics_port) == _not_after(second.cert_file)
    assert _served_serial(host.port, dev_pki) == _serial(second.cert_file)
    stub = catalog_pb2_grpc.CatalogServiceStub(open_channel(host.port))
    assert stub.GetGame(REQUEST, timeout=5).game.name == "games/1"


def test_server_picks_up_files_replaced_in_place(start_host, dev_pki, tmp_path):
    issue = dict(ca_file=dev_pki.ca_file, ca_key_file=dev_pki.ca_key_file, out_dir=tmp_path, name="catalog")
    first = issue_cert(**issue)
    settings = settings_for(dev_pki, tls_cert_file=first.cert_file, tls_key_file=first.key_file)
    host = start_host(settings=settings)
    assert _served_serial(host.port, dev_pki) == _serial(first.cert_file)
    old_serial = _serial(first.cert_file)
    issue_cert(**issue)  # same paths, new contents
    new_serial = _serial(first.cert_file)
    assert new_serial != old_serial
    assert _served_serial(host.port, dev_pki) == new_serial


def test_client_channel_picks_up_rotated_client_cert(start_host, open_channel, dev_pki, tmp_path):
    host = start_host()
    issue = dict(ca_file=dev_pki.ca_file, ca_key_file=dev_pki.ca_key_file, out_dir=tmp_path, name="client")
    client = issue_cert(spiffe=spiffe_id("gateway"), **issue)
    channel = open_channel(host.port, cert_file=client.cert_file, key_file=client.key_file, check_interval=0)
    stub = catalog_pb2_grpc.CatalogServiceStub(channel)
    assert stub.GetGame(REQUEST, timeout=5).game.name == "games/1"

    # Same files, now holding an identity the policy refuses: only a rebuilt channel can be denied.
    issue_cert(spiffe=spiffe_id("ingestion"), **issue)
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetGame(REQUEST, timeout=5)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
