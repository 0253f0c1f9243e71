"""The dev PKI: what it issues, and that it reuses valid files and replaces invalid ones."""

from __future__ import annotations

import ipaddress
import stat

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from gamectl.certs import TRUST_DOMAIN, create_ca, ensure_dev_pki, issue_cert, spiffe_id


def _load(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_spiffe_id():
    assert spiffe_id("catalog") == "spiffe://games.local/catalog"
    assert spiffe_id("x", "other.test") == "spiffe://other.test/x"
    assert TRUST_DOMAIN == "games.local"


def test_issued_cert_has_identity_names_and_usages(tmp_path):
    ca_file, ca_key = create_ca(tmp_path)
    issued = issue_cert(ca_file=ca_file, ca_key_file=ca_key, out_dir=tmp_path / "out", name="gateway")
    assert issued.cert_file == tmp_path / "out" / "gateway.pem"
    assert issued.spiffe_id == "spiffe://games.local/gateway"
    cert = _load(issued.cert_file)
    cert.verify_directly_issued_by(_load(ca_file))
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [issued.spiffe_id]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    assert stat.S_IMODE(issued.key_file.stat().st_mode) == 0o600


def test_custom_spiffe_id(tmp_path):
    ca_file, ca_key = create_ca(tmp_path)
    issued = issue_cert(
        ca_file=ca_file, ca_key_file=ca_key, out_dir=tmp_path, name="x", spiffe="spiffe://t/y"
    )
    assert issued.spiffe_id == "spiffe://t/y"


def test_ensure_dev_pki_creates_then_reuses(tmp_path):
    pki = ensure_dev_pki(tmp_path)
    assert set(pki.certs) == {"catalog", "ingestion", "gateway", "operator"}
    assert stat.S_IMODE(pki.ca_key_file.stat().st_mode) == 0o600
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    again = ensure_dev_pki(tmp_path)
    assert again == pki
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_ensure_dev_pki_replaces_what_is_broken(tmp_path):
    pki = ensure_dev_pki(tmp_path, names=["catalog", "gateway"])
    gateway_pem = pki.certs["gateway"].cert_file.read_bytes()
    pki.certs["catalog"].key_file.unlink()
    ensure_dev_pki(tmp_path, names=["catalog", "gateway"])
    assert pki.certs["catalog"].key_file.exists()
    assert pki.certs["gateway"].cert_file.read_bytes() == gateway_pem


def test_new_ca_reissues_every_cert(tmp_path):
    pki = ensure_dev_pki(tmp_path, names=["catalog"])
    old = pki.certs["catalog"].cert_file.read_bytes()
    pki.ca_file.write_text("not a certificate")
    renewed = ensure_dev_pki(tmp_path, names=["catalog"])
    assert renewed.certs["catalog"].cert_file.read_bytes() != old
    _load(renewed.certs["catalog"].cert_file).verify_directly_issued_by(_load(renewed.ca_file))
