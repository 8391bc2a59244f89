"""What reading a journal's finished cycles costs: `report` verifies every record; `status` scans for
the intent and archive lines, and `watch` then reads only what each refresh appended."""

from __future__ import annotations

import time
from pathlib import Path

from fsm.report.cycles import CycleScan, read_cycles


def cycles_read_seconds(journal: Path) -> tuple[float, float, float, int]:
    """(verified, scanned, a rescan with nothing appended) in seconds, each the best of three, and the
    cycles found."""
    verified, scanned, again = [], [], []
    cycles = 0
    for _ in range(3):
        started = time.perf_counter()
        cycles = len(read_cycles(journal))
        verified.append(time.perf_counter() - started)
        scan = CycleScan(journal)
        started = time.perf_counter()
        assert len(scan.cycles()) == cycles
        scanned.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert len(scan.cycles()) == cycles
        again.append(time.perf_counter() - started)
    return min(verified), min(scanned), min(again), cycles
