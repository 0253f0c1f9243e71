"""The in-flight counter a stopping server drains."""

from __future__ import annotations

import threading

from gamekit.serving.inflight import InFlight


def test_wait_idle():
    in_flight = InFlight()
    assert in_flight.wait_idle(0)
    in_flight.enter()
    assert in_flight.count == 1
    assert not in_flight.wait_idle(0.01)
    threading.Timer(0.02, in_flight.leave).start()
    assert in_flight.wait_idle(5)
    assert in_flight.count == 0
