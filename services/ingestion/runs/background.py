"""Runs started by RunIngestion: answered at once with the run, carried on by a thread of their own.

A run takes minutes; a caller waiting for it would hold a worker of this server, and of the gateway, the
whole time. So `start` begins the run on its own thread, waits only until the ledger holds its row, and
returns it RUNNING; the caller polls GetRun. The executor is bounded to one run per process: the slot
is shared with AcceptFile, which still imports in the call (`exclusive`), and a second start while it
is taken is ABORTED (RUN_IN_PROGRESS). Runs of other processes are kept apart by the ledger's file locks.

The thread is a daemon, so that it never holds a stopping process. On SIGTERM the service stops taking
runs (`stop_accepting`, as the drain begins) and `wait_stopped` gives the run going until the grace
period ends. A run still going then is left to end with the process, as any crash would: its lease
(`ingestion.ledger.run_leases`) goes with the process's connections, and the next run marks it failed and
takes its files again.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future

from gamekit.call_context import call_scope, current_peer, current_request_id
from gamekit.errors import Aborted, Unavailable
from ingestion.model import Run, RunTrigger
from ingestion.runs.runner import Runner

log = logging.getLogger(__name__)


class BackgroundRuns:
    """At most one run at a time in this process, on a daemon thread; thread-safe."""

    def __init__(self, runner: Runner, *, grace_seconds: float) -> None:
        self._runner = runner
        self._grace = grace_seconds
        self._slot = threading.Lock()
        self._lock = threading.Lock()  # guards the fields below
        self._current: Run | None = None
        self._thread: threading.Thread | None = None
        self._stop_by: float | None = None

    def start(self, trigger: RunTrigger) -> Run:
        """Begin a run on its own thread; the run, RUNNING, as soon as the ledger holds it."""
        self._take_slot()
        started: Future[Run] = Future()
        # The caller's request id and trace go with the run; its deadline does not (see _carry_on).
        context = contextvars.copy_context()
        thread = threading.Thread(
            target=context.run, args=(self._carry_on, trigger, started), name="ingestion-run", daemon=True
        )
        with self._lock:
            self._thread = thread
        try:
            thread.start()
        except BaseException:
            self._slot.release()
            raise
        return started.result()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the slot for a run made within the call (AcceptFile); Aborted while a run holds it."""
        self._take_slot()
        try:
            yield
        finally:
            self._slot.release()

    def stop_accepting(self) -> None:
        """Refuse new runs from now on; the run going has until the grace period ends."""
        with self._lock:
            if self._stop_by is None:
                self._stop_by = time.monotonic() + self._grace

    def wait_stopped(self) -> bool:
        """Wait for the run going until the grace period ends; True when none is left."""
        self.stop_accepting()
        with self._lock:
            thread, stop_by, current = self._thread, self._stop_by, self._current
        if thread is None:
            return True
        thread.join(max(0.0, (stop_by or 0.0) - time.monotonic()))
        if not thread.is_alive():
            return True
        log.warning(
            "a run is still going as the process stops; it ends with the process, and the next run marks"
            " it failed and takes its files again",
            extra={"fields": {"run": current.name if current else None}},
        )
        return False

    def _take_slot(self) -> None:
        with self._lock:
            if self._stop_by is not None:
                raise Unavailable("ingestion is stopping; retry later", reason="STOPPING")
            if self._slot.acquire(blocking=False):
                return
            current = self._current
        going = f"{current.name} is still going; follow it with GetRun" if current else "a run is still going"
        raise Aborted(f"{going}, and start another when it ends", reason="RUN_IN_PROGRESS")

    def _carry_on(self, trigger: RunTrigger, started: Future[Run]) -> None:
        def on_start(run: Run) -> None:
            with self._lock:
                self._current = run
            started.set_result(run)

        try:
            with call_scope(current_request_id(), None, current_peer()):
                self._runner.run(trigger, on_start=on_start)
        except Exception as exc:
            if not started.done():
                started.set_exception(exc)  # no run began: the caller gets the error
            else:
                log.exception("a background run failed", extra={"fields": {"run": self._current_name()}})
        finally:
            if not started.done():
                started.set_exception(RuntimeError("the run stopped before it began"))
            with self._lock:
                self._current = None
            self._slot.release()

    def _current_name(self) -> str | None:
        with self._lock:
            return self._current.name if self._current else None
