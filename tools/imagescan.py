"""Proof that no image carries a secret: its history, and every file of every layer, read back.

What counts as a leak: the build's CA bundle (the build secret) or any certificate of it that the public
Mozilla roots (certifi) do not have, anywhere in a file; a PEM private key; anything under a `.git`
directory or the repository's local state (.local, .venv); a secret mount left behind (/run/secrets).
The history (what each layer's instruction was) must name no key material either. Layers are read from
`save --format docker-archive` (docker writes the same layout), each distinct layer once.
"""

from __future__ import annotations

import base64
import json
import re
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from tools.engine import Engine

PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\s+(.+?)\s+-----END CERTIFICATE-----", re.S)
# A real key: the armour line, then base64 (the armour alone is a string constant in cryptography's code).
PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----\r?\n(?:[A-Za-z0-9+/=]{40,}\r?\n)+")
PUBLIC_ROOTS = (Path("/usr/share/ca-certificates/mozilla"),)
FORBIDDEN_PARTS = {".git", ".local", ".venv", ".env"}
# Enough of a certificate's DER (as base64) to be unique, and unaffected by how a bundle wraps lines.
FINGERPRINT_CHARS = 120


class LeakError(RuntimeError):
    """A secret, key or repository state was found in an image; the message says where."""


def _certificates(pem: bytes) -> list[bytes]:
    return [base64.b64decode(re.sub(rb"\s+", b"", body)) for body in PEM_CERT.findall(pem)]


def private_certificates(bundle: bytes) -> list[bytes]:
    """The DER of each certificate in `bundle` that is no public root (Mozilla's, as Debian or certifi ship
    them): a proxy's CA, a company's CA. Public roots are in many packages (grpc's roots.pem) and no leak."""
    public: set[bytes] = set()
    try:
        import certifi

        public.update(_certificates(Path(certifi.where()).read_bytes()))
    except ImportError:
        pass
    for folder in PUBLIC_ROOTS:
        for root in folder.glob("*.crt"):
            public.update(_certificates(root.read_bytes()))
    return [der for der in _certificates(bundle) if der not in public]


def needles(bundle: bytes | None) -> list[bytes]:
    """Byte strings that must appear in no file: each private certificate's base64, in 64-column PEM lines."""
    if not bundle:
        return []
    found = []
    for der in private_certificates(bundle):
        encoded = base64.b64encode(der)
        found.append(encoded[64 : 64 + FINGERPRINT_CHARS][:64])  # one full PEM line from inside the body
    return found


def layer_files(archive: Path) -> Iterator[tuple[str, str, bytes | None]]:
    """(layer, path, content or None for non-files) of every entry of every layer in a docker-archive."""
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for layer in dict.fromkeys(name for entry in manifest for name in entry["Layers"]):
            member = outer.extractfile(layer)
            assert member is not None
            with tarfile.open(fileobj=member, mode="r|*") as inner:
                for item in inner:
                    content = None
                    if item.isfile():
                        extracted = inner.extractfile(item)
                        content = extracted.read() if extracted is not None else b""
                    yield layer, item.name, content


def leaks_in(entries: Iterable[tuple[str, str, bytes | None]], bundle: bytes | None) -> list[str]:
    """What in these layer entries is a leak, one line each."""
    found: list[str] = []
    secrets = needles(bundle)
    for layer, name, content in entries:
        parts = set(Path(name).parts)
        where = f"{name} (layer {layer[:19]})"
        if parts & FORBIDDEN_PARTS:
            found.append(f"{where}: repository state {sorted(parts & FORBIDDEN_PARTS)}")
        if name.lstrip("./").startswith("run/secrets/") and content is not None:
            found.append(f"{where}: a build secret left in the image")
        if content is None:
            continue
        if secrets and content == bundle:
            found.append(f"{where}: a copy of the build's CA bundle")
        elif not content.startswith(b"\x7fELF") and PRIVATE_KEY.search(content):
            # (a shared library's key is a test vector compiled in, as in libgnutls: no file anyone reads)
            found.append(f"{where}: a PEM private key")
        elif any(needle in content for needle in secrets):
            found.append(f"{where}: a certificate of the build's CA bundle that is not a public root")
    return found


def history_leaks(engine: Engine, reference: str) -> list[str]:
    """Lines of the image's history (each layer's instruction) that carry key or certificate material."""
    history = engine.output("history", "--no-trunc", "--format", "{{.CreatedBy}}", reference)
    return [
        f"history of {reference}: {line[:120]}"
        for line in history.splitlines()
        if "-----BEGIN" in line or PRIVATE_KEY.search(line.encode())
    ]


def scan_images(engine: Engine, references: list[str], ca_bundle: Path | None) -> None:
    """Scan each image's history and layers (each distinct layer once); LeakError listing every find."""
    bundle = ca_bundle.read_bytes() if ca_bundle is not None else None
    problems: list[str] = []
    seen: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="games-scan-", dir="/var/tmp") as work:
        archive = Path(work) / "image.tar"
        for reference in references:
            problems += history_leaks(engine, reference)
            archive_format = ["--format", "docker-archive"] if engine.name == "podman" else []
            engine.run("save", *archive_format, "--output", str(archive), reference)
            layers: set[str] = set()
            fresh = _unseen(layer_files(archive), frozenset(seen), layers)
            problems += [f"{reference}: {problem}" for problem in leaks_in(fresh, bundle)]
            seen |= layers
            archive.unlink()
            print(
                f"scanned {reference}: its history, and every file of {len(layers)} layers not scanned before"
            )
    if problems:
        raise LeakError("found in the images:\n  " + "\n  ".join(problems))
    print(f"no secret, private key, CA bundle or .git in {len(references)} images")


def _unseen(
    entries: Iterator[tuple[str, str, bytes | None]], seen: frozenset[str], layers: set[str]
) -> Iterator[tuple[str, str, bytes | None]]:
    """The entries of layers not in `seen`, adding each such layer to `layers`."""
    for layer, name, data in entries:
        if layer not in seen:
            layers.add(layer)
            yield layer, name, data
