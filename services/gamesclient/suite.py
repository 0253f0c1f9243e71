"""`.local/suite.json`, written by `make up`: where the platform listens, its CA, its dev keys.

Relative file paths in it are relative to the repository root, the parent of the `.local` directory
that holds the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SUITE = Path(".local/suite.json")
_FILES = frozenset({"ca", "client_cert", "client_key"})


class SuiteError(ValueError):
    """The suite file is missing, unreadable or lacks what was asked of it."""


@dataclass(frozen=True)
class SuiteInfo:
    """What a suite file says: service addresses, TLS files and API keys by name."""

    path: Path
    addresses: dict[str, str]
    ca_file: Path | None
    client_cert: Path | None = None
    client_key: Path | None = None
    api_keys: dict[str, str] = field(default_factory=dict)

    def address(self, service: str = "gateway") -> str:
        """The host:port of a service, or SuiteError when the suite does not run it."""
        try:
            return self.addresses[service]
        except KeyError:
            raise SuiteError(f"{self.path} names no {service} address") from None

    def api_key(self, name_or_literal: str) -> str:
        """The key with that name in the suite; any other string is taken as the key itself."""
        return self.api_keys.get(name_or_literal, name_or_literal)


def _root(path: Path) -> Path:
    folder = path.resolve().parent
    return folder.parent if folder.name == ".local" else folder


def load_suite(path: Path = DEFAULT_SUITE) -> SuiteInfo:
    """Read a suite file; SuiteError says what is wrong with it."""
    try:
        data: Any = json.loads(path.read_text())
    except FileNotFoundError:
        raise SuiteError(f"no suite file at {path} (run `make up`, or point --suite at one)") from None
    except (OSError, ValueError) as exc:
        raise SuiteError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise SuiteError(f"{path} is not a JSON object")
    root = _root(path)

    def file(name: str) -> Path | None:
        value = data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise SuiteError(f"{path}: {name} must be a path")
        return root / value

    keys = data.get("api_keys", {})
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise SuiteError(f"{path}: api_keys must map names to keys")
    addresses = {k: v for k, v in data.items() if isinstance(v, str) and k not in _FILES}
    return SuiteInfo(
        path=path,
        addresses=addresses,
        ca_file=file("ca"),
        client_cert=file("client_cert"),
        client_key=file("client_key"),
        api_keys={str(k): v.strip() for k, v in keys.items()},
    )
