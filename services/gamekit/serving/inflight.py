"""How many calls a server is handling: a stopping server drains them and says how many it cut off."""

from __future__ import annotations

import threading


class InFlight:
    """Counts calls being handled, so a stopping server can tell how many it cut off."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()

    @property
    def count(self) -> int:
        """Calls being handled now."""
        return self._count

    def enter(self) -> None:
        """One more call."""
        with self._idle:
            self._count += 1

    def leave(self) -> None:
        """One call fewer."""
        with self._idle:
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no call is in flight or the timeout passes; True when idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)
