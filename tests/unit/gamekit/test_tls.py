"""TLS material follows files on disk, never pairs a certificate with the wrong key, reports its expiry."""

from __future__ import annotations

import shutil

import pytest
from cryptography import x509
from prometheus_client import REGISTRY

from gamectl.certs import issue_cert
from gamekit.observability.metrics import follow_certificate
from gamekit.security.tls import ReloadingTls, TlsFiles, read_material


@pytest.fixture
def files(dev_pki, tmp_path):
    shutil.copy(dev_pki.certs["catalog"].cert_file, tmp_path / "tls.crt")
    shutil.copy(dev_pki.certs["catalog"].key_file, tmp_path / "tls.key")
    return TlsFiles(ca_file=dev_pki.ca_file, cert_file=tmp_path / "tls.crt", key_file=tmp_path / "tls.key")


def test_unchanged_files_give_nothing_new(files):
    tls = ReloadingTls(files)
    assert tls.refresh() is None
    assert tls.material == read_material(files)


def test_changed_files_give_new_material(files, dev_pki, tmp_path):
    tls = ReloadingTls(files)
    new = issue_cert(
        ca_file=dev_pki.ca_file, ca_key_file=dev_pki.ca_key_file, out_dir=tmp_path / "n", name="c"
    )
    shutil.copy(new.key_file, files.key_file)
    shutil.copy(new.cert_file, files.cert_file)
    material = tls.refresh()
    assert material is not None
    assert material.cert == new.cert_file.read_bytes()


def test_half_rotated_pair_keeps_the_old_one(files, dev_pki, tmp_path):
    tls = ReloadingTls(files)
    old = tls.material
    new = issue_cert(
        ca_file=dev_pki.ca_file, ca_key_file=dev_pki.ca_key_file, out_dir=tmp_path / "n", name="c"
    )
    shutil.copy(new.cert_file, files.cert_file)  # the key has not arrived yet
    assert tls.refresh() is None
    assert tls.material == old
    shutil.copy(new.key_file, files.key_file)
    assert tls.refresh() is not None


def test_mismatched_files_are_refused(files, dev_pki):
    with pytest.raises(ValueError, match="does not match"):
        read_material(TlsFiles(files.ca_file, files.cert_file, dev_pki.certs["gateway"].key_file))


def _not_after(path) -> float:
    return x509.load_pem_x509_certificate(path.read_bytes()).not_valid_after_utc.timestamp()


def test_expiry_gauge_follows_a_rotation_without_a_handshake(files, dev_pki, tmp_path):
    tls = ReloadingTls(files)
    follow_certificate(tls.expiry_timestamp)
    gauge = "tls_certificate_expiry_timestamp_seconds"
    assert REGISTRY.get_sample_value(gauge) == _not_after(files.cert_file)

    new = issue_cert(
        ca_file=dev_pki.ca_file,
        ca_key_file=dev_pki.ca_key_file,
        out_dir=tmp_path / "n",
        name="c",
        valid_days=90,
    )
    shutil.copy(new.cert_file, files.cert_file)  # half rotated: the old certificate still serves
    assert REGISTRY.get_sample_value(gauge) == tls.material.not_after.timestamp()
    assert tls.material.not_after.timestamp() != _not_after(new.cert_file)
    shutil.copy(new.key_file, files.key_file)
    assert REGISTRY.get_sample_value(gauge) == _not_after(new.cert_file)
    assert tls.material.cert == new.cert_file.read_bytes()
