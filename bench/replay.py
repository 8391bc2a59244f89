"""Replay's cost: the shipped ladder replayed over synthetic 15m files of growing length, each in a
fresh process, for bars per second, the engine's share of the time and peak RSS.

    .venv/bin/python -m bench.replay [--bars N ...]   (a year: --bars 8760 35040; 3 years: 105120)

The child replays through fsm.replay.driver (what `okx-fsm replay` runs) with the tick and the
simulator's dispatch timed: engine = time in ticks less time inside the simulator (its answers to the
in-process requests), so the client's signing and parsing count as engine. Targets (issue 21): a year
(35 040 bars) within 60 s, the cost linear in the bars, peak RSS at 3 years within 1.2x of 3 months, and
the year finishes with 0 anomalies (its gaps and crash bar force none) and a journal verify-log passes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fsm.replay.synthetic import write

START_MS = 1_735_689_600_000  # 2025-01-01T00:00Z
THREE_MONTHS, YEAR, THREE_YEARS = 8_760, 35_040, 105_120
MACHINE = "eth_robust_twap_15m"


def child(candles: Path, out: Path) -> dict[str, Any]:
    """One replay, timed by part (runs in the measured process)."""
    from exchange.sim.simulator import Simulator
    from fsm.engine.machine import load_machine
    from fsm.replay import driver
    from fsm.replay.candles import CandleFile

    spent = {"tick": 0.0, "sim": 0.0}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return wrapper

    driver.run_tick = timed("tick", driver.run_tick)  # type: ignore[attr-defined]
    Simulator._dispatch = timed("sim", Simulator._dispatch)  # type: ignore[method-assign]
    machine = load_machine(MACHINE, state_dir=out)
    out.mkdir(parents=True)
    started, cpu = time.perf_counter(), time.process_time()
    summary = driver.Replay(machine, driver.ReplayModel(), {"candles": str(candles)}).run(
        CandleFile(candles, "15m")
    )
    total = time.perf_counter() - started
    from fsm.persist.journal import verify_journal

    verified = verify_journal(machine.state_path.with_suffix(".jsonl"))  # raises on a broken chain
    return {
        "bars": summary.bars,
        "ticks": summary.ticks,
        "seconds": total,
        "cpu_seconds": time.process_time() - cpu,
        "engine_share": (spent["tick"] - spent["sim"]) / total,
        "sim_share": spent["sim"] / total,
        "cycles": summary.cycles,
        "anomalies": summary.anomalies,
        "anomaly_records": verified.kinds.get("anomaly", 0),
        "gaps": len(summary.gaps),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(work: Path, bars: int) -> dict[str, Any]:
    candles = work / f"{bars}.jsonl"
    if not candles.exists():
        write(candles, 1, "15m", START_MS, bars)
    argv = [sys.executable, "-m", "bench.replay", "--child", str(candles), str(work / f"out-{bars}")]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bars", type=int, nargs="*", default=[THREE_MONTHS, YEAR])
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    report(Path(tempfile.mkdtemp(prefix="okx-fsm-replay-")), args.bars, print)


def report(work: Path, sizes: list[int], say: Any) -> None:
    """Replay each size and say the numbers against the targets."""
    results = [measure(work, bars) for bars in sizes]
    for r in results:
        rate = r["bars"] / r["seconds"]
        year_s = YEAR / rate
        year = "measured" if r["bars"] >= YEAR else f"extrapolated from {r['bars']:,} bars"
        say(
            f"replay {r['bars']:,} bars ({r['ticks']:,} ticks): {r['seconds']:.1f} s ({r['cpu_seconds']:.1f} "
            f"CPU s), {rate:,.0f} bars/s, {r['bars'] / r['cpu_seconds']:,.0f} bars per CPU s (a year: "
            f"{year_s:.0f} s {year}, target <= 60: {'ok' if year_s <= 60 else 'MISSED'}); engine "
            f"{r['engine_share']:.0%}, simulator {r['sim_share']:.0%} of the time; {r['cycles']} cycles, "
            f"{r['gaps']} gaps crossed, {r['anomalies']} anomalies (target 0, the data forces none: "
            f"{'ok' if r['anomalies'] == 0 == r['anomaly_records'] else 'MISSED'}), verify-log ok; "
            f"peak RSS {r['peak_rss_mb']:.0f} MB"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = (last["seconds"] / last["bars"]) / (first["seconds"] / first["bars"])
        rss = last["peak_rss_mb"] / first["peak_rss_mb"]
        say(
            f"replay growth {first['bars']:,} -> {last['bars']:,} bars: cost per bar x{growth:.2f} "
            f"(linear: ~1), peak RSS x{rss:.2f} (target <= 1.2: {'ok' if rss <= 1.2 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
