"""Requests applied late: accepted by the gateway on arrival, run by their endpoint when due.

A sim-clock entry is due when the simulator's clock reaches arrival + ms; a wall-clock one after ms of
host time (monotonic). The venue runs due entries from its `sync`; whatever they answer is discarded.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SIM = "sim"
WALL = "wall"


def _wall_ms() -> int:
    return int(time.monotonic() * 1000)


@dataclass(order=True)
class Deferred:
    due_ms: int  # on its own clock: the sim clock, or host monotonic ms
    seq: int  # arrival order, for ties
    clock: str = field(compare=False)
    run: Callable[[], object] = field(compare=False, repr=False)
    expired: Callable[[int], bool] = field(compare=False, repr=False)  # past its expTime at a sim time


class DeferredQueue:
    def __init__(self) -> None:
        self._waiting: list[Deferred] = []
        self._seq = itertools.count()
        self.queued = self.applied = self.refused = 0

    def add(
        self,
        run: Callable[[], object],
        expired: Callable[[int], bool],
        clock: str,
        ms: int,
        sim_now_ms: int,
    ) -> None:
        """Queue `run` to be applied `ms` after now on `clock` ("sim" or "wall")."""
        start = sim_now_ms if clock == SIM else _wall_ms()
        self._waiting.append(Deferred(start + ms, next(self._seq), clock, run, expired))
        self.queued += 1

    def run_wall_due(self, sim_now_ms: int) -> None:
        """Apply the wall-clock entries whose time has come, judged at sim time `sim_now_ms`."""
        self._run(WALL, _wall_ms(), sim_now_ms)

    def run_sim_due(self, sim_now_ms: int) -> None:
        """Apply the sim-clock entries due by `sim_now_ms`, earliest due first."""
        self._run(SIM, sim_now_ms, sim_now_ms)

    def _run(self, clock: str, clock_now_ms: int, sim_now_ms: int) -> None:
        due = sorted(e for e in self._waiting if e.clock == clock and e.due_ms <= clock_now_ms)
        if not due:
            return
        taken = {e.seq for e in due}
        self._waiting = [e for e in self._waiting if e.seq not in taken]
        for entry in due:
            if entry.expired(sim_now_ms):
                self.refused += 1
            else:
                self.applied += 1
            entry.run()  # an expired place answers 50037 per item and applies nothing

    def waits_on_sim_clock(self) -> bool:
        """Whether some entry falls due on the sim clock (so every market step must be taken)."""
        return any(e.clock == SIM for e in self._waiting)

    def counts(self) -> dict[str, int]:
        """queued = applied + refused (expTime passed) + waiting."""
        return {
            "queued": self.queued,
            "applied": self.applied,
            "refused": self.refused,
            "waiting": len(self._waiting),
        }
