"""Loopback ports for the local suite and the tests.

A port the kernel hands out for `bind(0)` comes from its ephemeral range, the same range every
outgoing connection's local port is drawn from. Between choosing such a port and the server binding
it, a client connection (to moto, PostgreSQL, Redis, another service) can take it: CI saw ingestion
fail "Address already in use" that way. So ports are chosen below the ephemeral range, where no
outgoing connection lands, and never handed out twice by one process.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LINUX_DEFAULT_EPHEMERAL_START = 32768
_LOWEST_PORT = 20000
_ATTEMPTS = 200
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on at `host` right now, outside the ephemeral range."""
    upper = _ephemeral_start() - 1
    for _ in range(_ATTEMPTS):
        port = random.randint(_LOWEST_PORT, upper)  # noqa: S311 - spreading ports, not a secret
        if port not in _handed_out and _bindable(host, port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port between {_LOWEST_PORT} and {upper} on {host}")


def _ephemeral_start() -> int:
    try:
        start = int(_EPHEMERAL_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _LINUX_DEFAULT_EPHEMERAL_START
    return start if start > _LOWEST_PORT + 1000 else _LINUX_DEFAULT_EPHEMERAL_START


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
