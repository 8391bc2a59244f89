"""The simulator's clock: manual (moves only when told) or real time scaled by a speed."""

from __future__ import annotations

import time
from decimal import Decimal

# 2026-01-05T00:00:00Z, on a 15-minute boundary: the manual clock's default start, so runs reproduce.
DEFAULT_START_MS = 1767571200000


class Clock:
    def __init__(self, mode: str, speed: float, start_ms: int | None) -> None:
        if mode not in ("manual", "realtime"):
            raise ValueError(f"clock must be 'manual' or 'realtime', not {mode!r}")
        if speed <= 0:
            raise ValueError("speed must be positive")
        if start_ms is None:
            start_ms = DEFAULT_START_MS if mode == "manual" else int(time.time() * 1000)
        if not 10**12 <= start_ms < 10**13:
            raise ValueError("start_ms must be a Unix time in milliseconds between 2001 and 2286")
        self.mode = mode
        self.speed = speed
        self.start_ms = start_ms
        self._offset_ms = 0
        self._t0 = time.monotonic()

    @property
    def manual(self) -> bool:
        return self.mode == "manual"

    def now_ms(self) -> int:
        elapsed = 0 if self.manual else int((time.monotonic() - self._t0) * 1000 * self.speed)
        return self.start_ms + self._offset_ms + elapsed

    def advance(self, seconds: Decimal) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset_ms += int(seconds * 1000)

    @staticmethod
    def wall_ms() -> int:
        """The host's wall clock: a signed request stamped with it is fresh whatever the sim clock says."""
        return int(time.time() * 1000)

    def limiter_ms(self) -> int:
        """Time for rate-limit windows, which must never deadlock a client.

        Real time: the wall clock (OKX's budgets are real seconds, whatever the speed). Manual: the sim
        clock plus the wall time elapsed since start, so a window empties when the test advances the clock
        by 2 s (deterministic) and also when 2 s of wall time pass (nobody waits forever for an advance).
        """
        wall_elapsed = int((time.monotonic() - self._t0) * 1000)
        return self.now_ms() + wall_elapsed if self.manual else int(time.monotonic() * 1000)
