"""The long chaos bench (not run by pytest): hundreds of ladder cycles per seed against `okx-harsh`.

    .venv/bin/python -m bench.chaos --cycles 500 --kill 0.2 --harsh 0.1 --seeds 1,2,3

Each seed runs the real `okx-fsm tick --submit` in subprocesses against `okx-fsm sim --clock manual`,
SIGKILLs ticks at random, then settles and judges from the simulator's records and the files on
disk (see bench/chaos_lib). Prints one summary line per seed (and, with --details, every violation
with its evidence), then a total. Exits 1 if any invariant count is non-zero or verify-log failed.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from bench.chaos_lib import ChaosConfig, run_chaos


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=500, help="ladder cycles to complete per seed")
    parser.add_argument("--kill", type=float, default=0.2, help="chance that a tick is SIGKILLed")
    parser.add_argument("--harsh", type=float, default=0.1, help="okx-harsh fault probability")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--budget", type=float, default=3600.0, help="wall-time budget per seed, seconds")
    parser.add_argument("--max-ticks-per-cycle", type=int, default=30)
    parser.add_argument("--state-dir", type=Path, default=None, help="keep the files here (SEED/sK)")
    parser.add_argument("--details", action="store_true", help="print every violation with its evidence")
    parser.add_argument("--max-details", type=int, default=20, help="violations shown per seed")
    parser.add_argument("--trace", action="store_true", help="one line per tick on stderr")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    totals: Counter[str] = Counter()
    failed = False
    for seed in seeds:
        report = run_chaos(
            ChaosConfig(
                seed=seed,
                cycles=args.cycles,
                harsh=args.harsh,
                kill=args.kill,
                max_ticks_per_cycle=args.max_ticks_per_cycle,
                wall_budget_s=args.budget,
                state_dir=None if args.state_dir is None else args.state_dir / str(seed),
                trace=args.trace,
            )
        )
        print(report.summary_line(), flush=True)
        details = report.violations.details()
        if args.details or not report.ok:
            for line in details[: args.max_details]:
                print(f"  {line}")
            if len(details) > args.max_details:
                print(f"  ... {len(details) - args.max_details} more (--max-details)")
            for code, tail in sorted(report.stderr_samples.items()):
                print(f"  exit {code}: {tail[:300]}")
        totals.update({"cycles": report.cycles, "ticks": report.ticks, "kills": report.kills})
        totals.update({"faults": report.faults, **report.counts()})
        totals["verify_log_failed"] += report.verify_log != "ok"
        failed = failed or not report.ok
    fields = (
        "cycles", "ticks", "kills", "faults", "duplicates", "lost_fills", "invented_terminals", "stuck",
        "unprotected_ticks",
    )  # fmt: skip
    line = " ".join(f"{k}={totals[k]}" for k in fields)
    print(f"chaos total: seeds={len(seeds)} {line} verify_log_failed={totals['verify_log_failed']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
