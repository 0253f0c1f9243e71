"""Ports for the local suite come from below the kernel's ephemeral range and are never reused."""

from __future__ import annotations

import socket
from pathlib import Path

from gamectl.net import free_port


def test_free_ports_are_below_the_ephemeral_range_and_distinct() -> None:
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(port < ephemeral_start for port in ports)


def test_a_free_port_can_be_listened_on() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        with socket.create_connection(("127.0.0.1", port), timeout=2) as client:
            assert client.getpeername()[1] == port
