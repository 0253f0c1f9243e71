"""Child processes gamectl starts (servers for the local suite and the tests), and how they are stopped.

Stopping is the same for every one: SIGTERM (or SIGKILL, to play a crash), a bounded wait, and SIGKILL
for one that outlasts it. A child's output goes to a temporary file, not a pipe: a pipe nobody reads
would fill and stall a chatty server. It is kept only to explain a failed start.
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
from collections.abc import Sequence

STOP_TIMEOUT_SECONDS = 10.0


def stop_processes(
    processes: Sequence[subprocess.Popen[bytes]], *, timeout: float = STOP_TIMEOUT_SECONDS, kill: bool = False
) -> None:
    """Signal every live process (SIGTERM, or SIGKILL with `kill=True`), then wait; SIGKILL stragglers."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused (SIGSTOP) process would not act on SIGTERM
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    # Signalled together, waited one by one: they stop side by side, each within `timeout`.
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


class ChildProcess:
    """One running child with its output kept in a temporary file."""

    def __init__(self, argv: Sequence[str]) -> None:
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT
        )

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process.poll() is None

    def output_tail(self, lines: int = 20) -> str:
        """The last `lines` lines the process wrote (stdout and stderr)."""
        self._output.seek(0)
        return "\n".join(self._output.read().decode("utf-8", "replace").splitlines()[-lines:])

    def stop(self, *, kill: bool = False) -> None:
        """Stop the process (see `stop_processes`) and drop its output."""
        stop_processes([self.process], kill=kill)
        self._output.close()
