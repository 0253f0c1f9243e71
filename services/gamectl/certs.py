"""A development PKI: one CA and one certificate per service, with SPIFFE-style URI SANs.

In a cluster cert-manager issues these; locally and in tests `ensure_dev_pki` writes them once and
reuses them while they stay valid. Keys are EC P-256, written with mode 0600.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TRUST_DOMAIN = "games.local"
DEFAULT_NAMES = ("catalog", "ingestion", "gateway", "operator")
CA_VALID_DAYS = 365
# Reissue a little before expiry so a long test run or a local suite never meets an expired cert.
RENEW_BEFORE = datetime.timedelta(days=1)


def spiffe_id(name: str, trust_domain: str = TRUST_DOMAIN) -> str:
    """The SPIFFE id of a workload: spiffe://<trust domain>/<name>."""
    return f"spiffe://{trust_domain}/{name}"


@dataclass(frozen=True)
class IssuedCert:
    """A leaf certificate and key on disk, and the identity it carries."""

    cert_file: Path
    key_file: Path
    spiffe_id: str


@dataclass(frozen=True)
class DevPki:
    """The dev CA and the certificates it issued, by name."""

    ca_file: Path
    ca_key_file: Path
    certs: dict[str, IssuedCert]


def create_ca(directory: Path, *, common_name: str = "games-platform dev CA") -> tuple[Path, Path]:
    """Create a self-signed CA in `directory`; return (ca.pem, ca.key)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (
        _builder(subject=name, issuer=name, key=key, valid_days=CA_VALID_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    ca_file, ca_key_file = directory / "ca.pem", directory / "ca.key"
    _write_key(ca_key_file, key)
    _write_atomic(ca_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return ca_file, ca_key_file


def issue_cert(
    *,
    ca_file: Path,
    ca_key_file: Path,
    out_dir: Path,
    name: str,
    spiffe: str | None = None,
    valid_days: int = 30,
    dns_names: Iterable[str] = (),
) -> IssuedCert:
    """Issue `<name>.pem`/`<name>.key` in `out_dir`, signed by the CA, for server and client use.

    `dns_names` are added to localhost's: the names a cluster's Certificate gives a Service (make pods).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    ca_cert = x509.load_pem_x509_certificate(ca_file.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{ca_key_file} is not an EC private key")
    identity = spiffe or spiffe_id(name)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        _builder(subject=subject, issuer=ca_cert.subject, key=key, valid_days=valid_days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.UniformResourceIdentifier(identity),
                    x509.DNSName("localhost"),
                    *(x509.DNSName(dns) for dns in dns_names if dns != "localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = out_dir / f"{name}.pem", out_dir / f"{name}.key"
    # Key first: a reader that sees the new cert must never pair it with the old key for long.
    _write_key(key_file, key)
    _write_atomic(cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return IssuedCert(cert_file=cert_file, key_file=key_file, spiffe_id=identity)


def ensure_dev_pki(directory: Path, names: Iterable[str] = DEFAULT_NAMES) -> DevPki:
    """Reuse the CA and certificates in `directory` while valid; create or reissue what is not."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_file, ca_key_file = directory / "ca.pem", directory / "ca.key"
    ca_cert = _valid_ca(ca_file, ca_key_file)
    if ca_cert is None:
        ca_file, ca_key_file = create_ca(directory)
        ca_cert = x509.load_pem_x509_certificate(ca_file.read_bytes())
    certs: dict[str, IssuedCert] = {}
    for name in names:
        issued = IssuedCert(directory / f"{name}.pem", directory / f"{name}.key", spiffe_id(name))
        if not _valid_leaf(issued, ca_cert):
            issued = issue_cert(ca_file=ca_file, ca_key_file=ca_key_file, out_dir=directory, name=name)
        certs[name] = issued
    return DevPki(ca_file=ca_file, ca_key_file=ca_key_file, certs=certs)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _builder(
    *, subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, valid_days: int
) -> x509.CertificateBuilder:
    """A certificate of `key` for `subject` by `issuer`, valid from five minutes ago for `valid_days`."""
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=valid_days))
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """Signatures; and, for a CA, signing certificates and CRLs."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _fresh(cert: x509.Certificate) -> bool:
    now = _now()
    return cert.not_valid_before_utc <= now and cert.not_valid_after_utc - RENEW_BEFORE > now


def _matches(cert: x509.Certificate, key_file: Path) -> bool:
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    return key.public_key() == cert.public_key()


def _valid_ca(ca_file: Path, ca_key_file: Path) -> x509.Certificate | None:
    try:
        cert = x509.load_pem_x509_certificate(ca_file.read_bytes())
        return cert if _fresh(cert) and _matches(cert, ca_key_file) else None
    except (OSError, ValueError):
        return None


def _valid_leaf(issued: IssuedCert, ca_cert: x509.Certificate) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(issued.cert_file.read_bytes())
        cert.verify_directly_issued_by(ca_cert)
        uris = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        identities = uris.get_values_for_type(x509.UniformResourceIdentifier)
        return _fresh(cert) and identities == [issued.spiffe_id] and _matches(cert, issued.key_file)
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_atomic(path, data, 0o600)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    # Write beside the target and rename: readers (a server re-reading its files) never see half a file,
    # and the key is never readable by others, not even for a moment.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
