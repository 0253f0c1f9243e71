"""Ports for the local suite come from below the kernel's ephemeral range and are never reused."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gamectl.net import free_port, ports_outside_ephemeral


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


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("32768\t60999\n", (20000, 32767)),
        ("40000 60999", (20000, 39999)),
        ("1024\t50000\n", (50001, 65535)),
        ("", (20000, 32767)),
        ("garbage", (20000, 32767)),
        ("1 2 3", (20000, 32767)),
    ],
    ids=["linux-default", "raised-start", "low-start", "empty", "garbage", "three-numbers"],
)
def test_the_port_range_avoids_whatever_ephemeral_range_the_kernel_reports(
    tmp_path: Path, written: str, expected: tuple[int, int]
) -> None:
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text(written)
    assert ports_outside_ephemeral(range_file) == expected


def test_an_unreadable_range_is_linux_default_and_a_range_leaving_no_room_is_an_error(tmp_path: Path) -> None:
    assert ports_outside_ephemeral(tmp_path / "missing") == (20000, 32767)
    everything = tmp_path / "everything"
    everything.write_text("1024\t65000\n")
    with pytest.raises(RuntimeError, match="leaves no room"):
        ports_outside_ephemeral(everything)
