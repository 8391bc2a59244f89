"""Replay's data: a synthetic year of 15m bars written, then read back through the candle-file reader
(every row parsed and checked, streamed) - the reader's cost is part of every replay's."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from fsm.replay.candles import CandleFile
from fsm.replay.synthetic import write

YEAR_OF_15M = 35_040
START_MS = 1_735_689_600_000  # 2025-01-01T00:00Z


def year_file(work: Path) -> tuple[float, float, int]:
    """Seconds to write the year, bars per second read back, and the reader's peak traced bytes."""
    path = work / "year_15m.jsonl"
    started = time.perf_counter()
    write(path, 1, "15m", START_MS, YEAR_OF_15M)
    written = time.perf_counter() - started
    started = time.perf_counter()
    bars = sum(1 for _ in CandleFile(path, "15m"))
    elapsed = time.perf_counter() - started
    tracemalloc.start()  # a second pass: tracing slows the reader several times over
    sum(1 for _ in CandleFile(path, "15m"))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return written, bars / elapsed, peak
