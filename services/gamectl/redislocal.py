"""A private `redis-server` process on a free loopback port, never the machine's own.

`gamectl up` starts one when asked (GAMECTL_REDIS=1) for the gateway's shared rate limiter, and the tests
start one per test. It keeps nothing on disk (`--save "" --appendonly no`). `stop()` (gracefully, or with
`kill=True` for a crash) and `start()` again on the same port play an outage (a restarted server is empty);
`pause()` and `resume()` play a server that accepts but never answers.
"""

from __future__ import annotations

import shutil
import signal
import socket
import tempfile
import time

from gamectl.net import free_port
from gamectl.processes import ChildProcess

START_TIMEOUT_SECONDS = 10.0
_SHARED_PORT = 6379  # the machine's own Redis, if any: never ours


class RedisProcess:
    """One private redis-server process: its URL and port, start and stop."""

    def __init__(self, binary: str, *, host: str = "127.0.0.1") -> None:
        self._binary = binary
        self.host = host
        self.port = 0
        self._child: ChildProcess | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="redis-")

    @property
    def url(self) -> str:
        """The redis:// URL of the server."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._child is not None and self._child.running

    def start(self) -> None:
        """Start the server (on the same port as before, if it ran before) and wait until it answers."""
        if self.running:
            return
        while self.port in (0, _SHARED_PORT):
            self.port = free_port(self.host)
        config = {
            "port": str(self.port),
            "bind": self.host,
            "save": "",  # no snapshots
            "appendonly": "no",
            "dir": self._dir.name,
            "daemonize": "no",
            "logfile": "",  # stdout, kept to explain a failed start
            # Off the loopback (make pods binds the podman bridge), protected mode refuses every client.
            "protected-mode": "yes" if self.host in ("127.0.0.1", "::1", "localhost") else "no",
        }
        child = self._child = ChildProcess(
            [self._binary, *(arg for name, value in config.items() for arg in (f"--{name}", value))]
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._pong():
            if not child.running or time.monotonic() > deadline:
                output = child.output_tail()
                self.stop(kill=True)
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{output}")
            time.sleep(0.01)

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: SIGTERM and wait, or SIGKILL (`kill=True`) to play a crash."""
        child, self._child = self._child, None
        if child is not None:
            child.stop(kill=kill)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections open but nothing answers, so clients time out."""
        assert self._child is not None
        self._child.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Thaw a paused server (SIGCONT)."""
        assert self._child is not None
        self._child.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        self._dir.cleanup()

    def _pong(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def find_redis_server() -> str | None:
    """The redis-server binary on PATH, if any."""
    return shutil.which("redis-server")
