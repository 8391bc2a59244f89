"""`make bench`: the engine's cost in one run, against the targets of issues 12 and 13.

    .venv/bin/python -m bench.suite [--quick]

Prints requests per quiet tick at 1, 10 and 50 machines (and what per-order polling would make), REST
requests in a quiet minute with `run --push` (entries open; holding under a working stop), the
Cancel All After requests `run --dead-man` adds to a quiet minute (bench.deadman),
engine CPU per machine-tick with and without a transition, journal fsyncs per tick, store-open time
at 100, 10 k and 100 k records, verify-log speed against a read+parse+sha256 floor, the finished
cycles read by report, status and watch, bytes per record (against the first journal format), a
synthetic year of candles written and read back, and `--help` / `status` cold against `python -c pass`,
and replay's bars per second, engine share and memory growth (bench.replay).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import candles, deadman, engine, persistence, push, replay, report

REPO = Path(__file__).resolve().parents[1]
V1_JOURNAL = REPO / "tests" / "fsm" / "fixtures" / "journal_v1" / "eth_robust_twap_15m_live.jsonl"
OKX_FSM = str(Path(sys.executable).with_name("okx-fsm"))


def compile_bytecode() -> None:
    """Write the project's bytecode, as pip does for an installed package: an editable install run with
    PYTHONDONTWRITEBYTECODE set would otherwise compile every fsm module from source in each process."""
    packages = [str(REPO / name) for name in ("fsm", "exchange")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)


def cold(argv: list[str], repeats: int = 7) -> float:
    """Median wall seconds of a fresh process running argv."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 k records instead of 100 k, fewer rounds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="okx-fsm-bench-"))
    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    demo_dir = work / "demo"
    subprocess.run([OKX_FSM, "demo", "--state-dir", str(demo_dir)], check=True, capture_output=True)
    demo_journal = demo_dir / "eth_robust_twap_15m_live.jsonl"

    say("requests per quiet tick (entries open, one view per round, as the runner ticks)")
    for count in (1, 10, 50):
        made = engine.requests_per_quiet_tick(count, rounds=5 if args.quick else 20)
        polling = count * engine.RUNGS
        say(
            f"  {count:>2} machine(s): {made:.2f} per round (target 1: {verdict(made <= 1)}); "
            f"per-order polling: {polling} ({polling / max(made, 1e-9):.0f}x)"
        )

    holding = engine.requests_per_quiet_holding_tick(rounds=5 if args.quick else 20)
    say(
        f"requests per quiet tick holding a position under a working stop: {holding:.2f} (the position; "
        f"the stop's algo only on a full reconcile or a move; target 1: {verdict(holding <= 1)})"
    )

    quiet_ms, transition_ms, fsyncs = engine.cpu_per_machine_tick(500 if args.quick else 2000)
    say("engine CPU per machine-tick (replayed answers: no HTTP)")
    say(f"  quiet: {quiet_ms:.3f} ms (target <= 0.1: {verdict(quiet_ms <= 0.1)})")
    say(f"  with a transition (fill -> partially_filled, journaled): {transition_ms:.3f} ms")
    say(f"journal fsyncs in that transition tick: {fsyncs} (target <= 2: {verdict(fsyncs <= 2)})")

    template = persistence.demo_records(demo_journal)
    sizes = (100, 10_000) if args.quick else (100, 10_000, 100_000)
    opens: dict[int, float] = {}
    say("store open (lock, checkpoint, verify the tail)")
    for size in sizes:
        path = work / f"store_{size}" / "m.json"
        path.parent.mkdir()
        persistence.build_store(path, size, template)
        opens[size] = persistence.open_seconds(path)
        say(f"  {size:>7} records: {opens[size] * 1000:.2f} ms")
    biggest = max(sizes)
    ratio = opens[biggest] / opens[100]
    say(f"  {biggest} vs 100 records: {ratio:.2f}x (target <= 2: {verdict(ratio <= 2)})")

    journal = work / f"store_{biggest}" / "m.jsonl"
    verify, floor = persistence.verify_rate(journal)
    slower = floor / verify
    say(
        f"verify-log over {biggest} records: {verify:,.0f} records/s; read+parse+sha256 floor "
        f"{floor:,.0f} records/s: {slower:.2f}x the floor's time (target <= 1.5: {verdict(slower <= 1.5)})"
    )

    verified, scanned, again, cycles = report.cycles_read_seconds(journal)
    say(
        f"finished cycles in {biggest} records ({cycles} cycles): report (verified) {verified:.2f} s; "
        f"status (a scan for intent and archive lines) {scanned:.2f} s; a watch refresh with nothing "
        f"appended {again * 1000:.2f} ms"
    )

    now, before = persistence.bytes_per_record(demo_journal), persistence.bytes_per_record(V1_JOURNAL)
    say(f"bytes per record (the demo's journal): {now:.0f}; first format {before:.0f} ({before / now:.1f}x)")

    quiet, latency, fills = push.quiet_minute_and_fill_latency(quiet_s=10.0 if args.quick else 61.0)
    say(
        f"run --push, entries open: {quiet} REST request(s) in a quiet {'10 s' if args.quick else 'minute'} "
        "(target: only the periodic reconcile, every 60 s)"
    )
    say(
        f"fill to journal with push: median {latency * 1000:.0f} ms over {fills} fills; polling every 30 s: "
        "15 s on average (a fill waits for the next tick)"
    )
    quiet_s = 10.0 if args.quick else 61.0
    held, rounds = push.quiet_minute_under_a_stop(quiet_s=quiet_s)
    about_algos = sum(held[k] for k in push.ALGO_REQUESTS)
    say(
        f"run --push, holding under a working stop (orders and orders-algo open): {sum(held.values())} REST "
        f"request(s) in a quiet {'10 s' if args.quick else 'minute'} over {rounds} round(s), {about_algos} "
        f"about the stop (target: only the periodic reconcile's, at most 1 a minute: "
        f"{verdict(about_algos <= max(1, round(quiet_s / 60)))}); "
        + ", ".join(f"{k.split('/api/v5/')[-1]} {n}" for k, n in sorted(held.items()) if n)
    )

    deadman.report(say)

    written, read_rate, peak = candles.year_file(work)
    say(
        f"candle file, a synthetic year of 15m bars: written in {written:.2f} s; read back (parsed, checked, "
        f"streamed) at {read_rate:,.0f} bars/s, peak {peak / 1e6:.1f} MB traced"
    )

    say("replay of the shipped ladder over synthetic 15m bars (in-process simulator)")
    # A few minutes in all: the year is extrapolated from 3 months (bench.replay --bars 35040 measures it).
    replay.report(work, [1_000, 2_000] if args.quick else [2_000, replay.THREE_MONTHS], say)

    compile_bytecode()
    baseline = cold([sys.executable, "-c", "pass"])
    helps = cold([OKX_FSM, "--help"])
    status = cold([OKX_FSM, "status", "eth_robust_twap_15m", "--state-dir", str(demo_dir)])
    say(f"cold start: python -c pass {baseline * 1000:.0f} ms; --help {helps * 1000:.0f} ms "
        f"({helps / baseline:.1f}x); status {status * 1000:.0f} ms ({status / baseline:.1f}x, target <= 3: "
        f"{verdict(status / baseline <= 3)})")  # fmt: skip
    (work / "report.txt").write_text("\n".join(lines) + "\n")
    print(f"report: {work / 'report.txt'}")


if __name__ == "__main__":
    main()
