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
import subprocess
import tempfile
import time
from typing import IO

from gamectl.net import free_port

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0
_SHARED_PORT = 6379  # the machine's own Redis, if any: never ours


class RedisProcess:
    """One private redis-server process: its URL and port, start and stop."""

    def __init__(self, binary: str, *, host: str = "127.0.0.1") -> None:
        self._binary = binary
        self.host = host
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="redis-")

    @property
    def url(self) -> str:
        """The redis:// URL of the server."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server (on the same port as before, if it ran before) and wait until it answers."""
        if self.running:
            return
        while self.port in (0, _SHARED_PORT):
            self.port = free_port(self.host)
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        config = {
            "port": str(self.port),
            "bind": self.host,
            "save": "",  # no snapshots
            "appendonly": "no",
            "dir": self._dir.name,
            "daemonize": "no",
            "logfile": "",  # stdout, kept to explain a failed start
        }
        self._process = subprocess.Popen(
            [self._binary, *(arg for name, value in config.items() for arg in (f"--{name}", value))],
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._pong():
            if self._process.poll() is not None or time.monotonic() > deadline:
                output = self._output_text()
                self.stop(kill=True)
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{output}")
            time.sleep(0.01)

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server: SIGTERM and wait, or SIGKILL (`kill=True`) to play a crash."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused server would not act on SIGTERM
            if kill:
                process.kill()
            else:
                process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
        output, self._output = self._output, None
        if output is not None:
            output.close()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections open but nothing answers, so clients time out."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Thaw a paused server (SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

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

    def _output_text(self) -> str:
        if self._output is None:
            return ""
        self._output.seek(0)
        return self._output.read()[-4000:].decode(errors="replace")


def find_redis_server() -> str | None:
    """The redis-server binary on PATH, if any."""
    return shutil.which("redis-server")
