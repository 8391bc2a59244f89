"""The host's time as the simulator reads it, frozen, and moved only by a test.

On a manual clock the simulator also reads host time: a rate window empties after 2 s of it, a
`clock: "wall"` late request falls due after its ms, and a timestamp within 30 s of the host's wall
clock is fresh. A test that counts requests into a window, asks whether a late request has landed yet,
or signs near the edge of the 30 s freezes it, so how fast the machine runs cannot change the answer.
Only for manual clocks: a realtime clock runs on the same host time.
"""

from __future__ import annotations

import time as real_time

import pytest

import exchange.sim.clock as clock_module
import exchange.sim.deferred as deferred_module


class HostTime:
    """Stands in for the `time` module of the simulator's clock and late-request queue."""

    def __init__(self) -> None:
        self._monotonic = real_time.monotonic()
        self._wall = real_time.time()

    def monotonic(self) -> float:
        return self._monotonic

    def time(self) -> float:
        return self._wall

    def advance(self, seconds: float) -> None:
        self._monotonic += seconds
        self._wall += seconds


def freeze_host_time(monkeypatch: pytest.MonkeyPatch) -> HostTime:
    host = HostTime()
    monkeypatch.setattr(clock_module, "time", host)
    monkeypatch.setattr(deferred_module, "time", host)
    return host
