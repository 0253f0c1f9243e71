"""TLS material follows files on disk, and never pairs a certificate with the wrong key."""

from __future__ import annotations

import shutil

import pytest

from gamectl.certs import issue_cert
from gamekit.tls import ReloadingTls, TlsFiles, read_material


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
