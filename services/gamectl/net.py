"""Loopback ports for the local suite and the tests.

A port the kernel hands out for `bind(0)` comes from its ephemeral range, the same range every
outgoing connection's local port is drawn from. Between choosing such a port and the server binding
it, a client connection (to moto, PostgreSQL, Redis, another service) can take it: CI saw ingestion
fail "Address already in use" that way. So ports are chosen outside the ephemeral range (below it,
else above it), where no outgoing connection lands, and never handed out twice by one process.
"""

from __future__ import annotations

import functools
import random
import socket
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LINUX_DEFAULT_EPHEMERAL = (32768, 60999)
_LOWEST_PORT = 20000
_HIGHEST_PORT = 65535
_MIN_CHOICES = 1000
_ATTEMPTS = 200
_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on at `host` right now, outside the ephemeral range."""
    low, high = _ports_outside_ephemeral()
    for _ in range(_ATTEMPTS):
        port = random.randint(low, high)  # noqa: S311 - spreading ports, not a secret
        if port not in _handed_out and _bindable(host, port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port between {low} and {high} on {host}")


@functools.cache
def _ports_outside_ephemeral() -> tuple[int, int]:
    return ports_outside_ephemeral(EPHEMERAL_RANGE_FILE)


def ports_outside_ephemeral(range_file: Path) -> tuple[int, int]:
    """The ports (lowest, highest) no outgoing connection is given: below the kernel's range, else above.

    `range_file` holds the range as the kernel writes it ("32768\t60999"); unreadable, it is Linux's
    default. A range leaving fewer than 1000 ports on either side is an error, not a silent overlap.
    """
    try:
        start, end = map(int, range_file.read_text().split())
    except (OSError, ValueError):
        start, end = _LINUX_DEFAULT_EPHEMERAL
    if start - _LOWEST_PORT >= _MIN_CHOICES:
        return _LOWEST_PORT, start - 1
    if _HIGHEST_PORT - end >= _MIN_CHOICES:
        return end + 1, _HIGHEST_PORT
    raise RuntimeError(f"the ephemeral port range {start}-{end} ({range_file}) leaves no room for others")


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
