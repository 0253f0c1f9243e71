"""Stopping child processes: SIGTERM, a paused child, one that ignores SIGTERM, a crash, the output tail."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from gamectl.processes import ChildProcess, stop_processes

IGNORES_SIGTERM = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
    "time.sleep(60)"
)


def _python(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)


def test_terminates_every_process_and_reaps_it() -> None:
    processes = [_python("import time; time.sleep(60)") for _ in range(2)]
    stop_processes(processes, timeout=10)
    assert [p.returncode for p in processes] == [-signal.SIGTERM, -signal.SIGTERM]
    for process in processes:
        assert process.stdout is not None
        process.stdout.close()


def test_a_paused_process_still_stops_on_sigterm() -> None:
    process = _python("import time; time.sleep(60)")
    process.send_signal(signal.SIGSTOP)
    stop_processes([process], timeout=10)
    assert process.returncode == -signal.SIGTERM
    assert process.stdout is not None
    process.stdout.close()


def test_a_process_ignoring_sigterm_is_killed_after_the_timeout() -> None:
    process = _python(IGNORES_SIGTERM)
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    started = time.monotonic()
    stop_processes([process], timeout=0.5)
    assert process.returncode == -signal.SIGKILL
    assert time.monotonic() - started >= 0.5
    process.stdout.close()


def test_child_keeps_its_output_and_can_be_killed() -> None:
    child = ChildProcess(
        [sys.executable, "-c", "print('one'); print('two', flush=True); import time; time.sleep(60)"]
    )
    deadline = time.monotonic() + 10
    while "two" not in child.output_tail() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert child.output_tail(lines=1) == "two"
    assert child.running
    child.stop(kill=True)
    assert not child.running
    assert child.process.returncode == -signal.SIGKILL
    stop_processes([child.process])  # an exited process: nothing to signal, nothing to wait for
