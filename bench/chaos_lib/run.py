"""The chaos run: the real CLI ticking against `okx-harsh` with random SIGKILLs, a settle, a judgement.

A run is one or more segments. A segment is one simulator subprocess and one state directory: it
drives cycles until the run's target, its wall-time budget (if it has one), or a cycle that will not finish
(`max_ticks_per_cycle`); then it settles (faults off, deadlines passed, clean ticks) and is judged.
A segment stopped by a cycle that would not finish is counted (`stuck`) and the run goes on in a
fresh segment (seed + 1000 x segment), so one stuck cycle does not end the search for the others.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chaos_lib.judge import NAMES, Violations, check_protected, check_rungs, judge
from bench.chaos_lib.records import Journal, VenueLedger, read_snapshot
from bench.chaos_lib.script import MarketScript
from bench.chaos_lib.sim import REPO, SimProcess, okx_fsm_command
from bench.chaos_lib.ticks import TIMED_OUT, run_cli, tick_args, verify_log_args
from fsm.errors import ExitStatus

SEGMENT_SEED_STRIDE = 1000


@dataclass(frozen=True)
class ChaosConfig:
    """One seeded run. Every loop is bounded by count: ticks per cycle, settle ticks and segments; a long
    run may also stop at a wall-time budget (None: none, so the work done never depends on the machine)."""

    seed: int = 1
    cycles: int = 15
    harsh: float = 0.1  # okx-harsh probability per rule
    kill: float = 0.2  # chance that a tick is SIGKILLed
    kill_window_s: float = 1.0  # kills land 3 ms to this long after the tick starts talking to the venue
    max_ticks_per_cycle: int = 30
    settle_ticks: int = 30
    max_segments: int = 20
    wall_budget_s: float | None = 600.0
    hand_p: float = 0.04
    user_cancel_p: float = 0.04
    hours_p: float = 0.03
    state_dir: Path | None = None  # keep the files here (segment k in state_dir/sK) instead of a temp dir
    trace: bool = False  # one line per tick on stderr


@dataclass
class ChaosReport:
    """What a run did and what the judgement found, summed over its segments."""

    seed: int
    cycles: int = 0
    ticks: int = 0
    kills: int = 0
    kills_after_io: int = 0  # kills that landed after the tick's first request reached the venue
    kills_after_post: int = 0  # ...after one of its POSTs reached it
    faults: int = 0
    exit_codes: Counter[int] = field(default_factory=Counter)
    stderr_samples: dict[int, str] = field(default_factory=dict)
    violations: Violations = field(default_factory=Violations)
    verify_log: str = "ok"
    seconds: float = 0.0
    segments: int = 0
    stopped: list[str] = field(default_factory=list)  # why segments stopped before the target
    hand_trades: int = 0
    user_cancels: int = 0
    hour_jumps: int = 0
    stop_cancels: int = 0
    stop_runs: int = 0
    stops_fired: int = 0  # our stops the venue shows effective (fired) at the end of each segment
    protection_judged: int = 0  # clean ticks after which the stop invariant was judged
    faulted_clean: int = 0  # ticks that exited 0 but a POST of theirs met a fault: not judged for protection
    unprotected_after_fault: int = 0  # ...of which the venue showed own size without a stop (information)
    torn_lines: int = 0

    def counts(self) -> dict[str, int]:
        return self.violations.counts()

    @property
    def ok(self) -> bool:
        return not any(self.counts().values()) and self.verify_log == "ok"

    def summary_line(self) -> str:
        codes = ",".join(
            f"{'timeout' if c == TIMED_OUT else c}:{n}" for c, n in sorted(self.exit_codes.items())
        )
        counts = " ".join(f"{k}={n}" for k, n in self.counts().items())
        stopped = f" stopped={'; '.join(self.stopped)!r}" if self.stopped else ""
        return (
            f"chaos: seed={self.seed} cycles={self.cycles} ticks={self.ticks} kills={self.kills} "
            f"faults={self.faults} exit_codes={{{codes}}} {counts} verify_log={self.verify_log} "
            f"[overlapping={len(self.violations.overlapping)} kills_after_io={self.kills_after_io} "
            f"kills_after_post={self.kills_after_post} segments={self.segments} "
            f"hand_trades={self.hand_trades} user_cancels={self.user_cancels} "
            f"hour_jumps={self.hour_jumps} stop_cancels={self.stop_cancels} stop_runs={self.stop_runs} "
            f"stops_fired={self.stops_fired} protection_judged={self.protection_judged} "
            f"faulted_clean={self.faulted_clean} unprotected_after_fault={self.unprotected_after_fault}"
            f"{stopped}] ({self.seconds:.1f} s)"
        )


def _write_faults(stats: dict[str, Any]) -> int:
    """Requests that sent something (POSTs) and met a fault that can change their outcome (added latency
    cannot). A read that met one was answered after retries, or failed the tick."""
    return sum(int(n) for endpoint, n in stats["faulted"].items() if endpoint.startswith("POST "))


def _startup_s(sim: SimProcess) -> float:
    """Seconds from spawning the CLI to its first request at the venue (a read-only `account`), best of 2."""
    best = 5.0
    for _ in range(2):
        before = int(sim.stats()["total"])
        started = time.monotonic()
        proc = subprocess.Popen(
            [*okx_fsm_command(), "account", "--json"],
            cwd=REPO,
            env={**os.environ, **sim.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while proc.poll() is None and int(sim.stats()["total"]) == before:
            time.sleep(0.005)
        best = min(best, time.monotonic() - started)
        proc.wait(timeout=60)
    return best


class _Segment:
    """One simulator and one state directory, driven, settled and judged."""

    def __init__(
        self, config: ChaosConfig, report: ChaosReport, sim: SimProcess, state_dir: Path, seed: int, tag: str
    ) -> None:
        self.c = config
        self.r = report
        self.sim = sim
        self.dir = state_dir
        self.tag = tag
        self.ledger = VenueLedger()
        self.found = Violations()
        self.script = MarketScript(
            seed, hand_p=config.hand_p, user_cancel_p=config.user_cancel_p, hours_p=config.hours_p
        )
        self.kill_rng = random.Random(f"{seed}:kill")
        self.step_no = 0
        self.cycles = 0
        self.last_clean = True
        self.last_state: str | None = None
        self.startup_s = 0.0

    def tick(self, *, chaos: bool, settle: bool = False) -> None:
        """One step: move the market, run a tick (maybe killed), observe the venue and the state file."""
        r = self.r
        self.script.step(
            self.sim,
            self.step_no,
            read_snapshot(self.dir),
            self.ledger.last,
            last_tick_clean=self.last_clean,
            last_state=self.last_state,
            events=chaos,
            settle=settle,
        )
        self.step_no += 1
        delay = None
        roll, frac = self.kill_rng.random(), self.kill_rng.random()
        if chaos and roll < self.c.kill:
            delay = self.startup_s + 0.003 + frac * (self.c.kill_window_s - 0.003)
        stats_before = self.sim.stats()
        outcome = run_cli(tick_args(self.dir), self.sim.env, kill_after_s=delay)
        stats_after = self.sim.stats()
        r.ticks += 1
        if outcome.killed:
            r.kills += 1
            asked, asked_before = stats_after["requests"], stats_before["requests"]
            grew = {k for k, n in asked.items() if n != asked_before.get(k, 0)}
            r.kills_after_io += bool(grew)
            r.kills_after_post += any(k.startswith("POST ") for k in grew)
        else:
            r.exit_codes[outcome.code] += 1
            if outcome.code != 0:
                r.stderr_samples.setdefault(outcome.code, outcome.stderr_tail)
        self.last_clean = not outcome.killed and outcome.code == 0
        faulted = _write_faults(stats_after) != _write_faults(stats_before)
        self.ledger.observe(self.sim.state())
        before = self.last_state
        snapshot = read_snapshot(self.dir)
        self.last_state = str(snapshot.get("state")) if snapshot else None
        if snapshot is not None:
            self.cycles = int(snapshot.get("cycles_completed", 0))
            where = f"{self.tag} after tick {self.step_no} ({self.last_state})"
            check_rungs(list(snapshot.get("rungs", [])), self.ledger, where, self.found.invented_terminals)
        if self.last_clean and faulted:
            r.faulted_clean += 1
            after_fault = Violations()
            check_protected(snapshot, self.ledger, "", after_fault)
            r.unprotected_after_fault += len(after_fault.unprotected)
        elif self.last_clean:
            r.protection_judged += 1
            check_protected(snapshot, self.ledger, f"{self.tag} after tick {self.step_no}", self.found)
        if self.c.trace:
            code = "kill" if outcome.killed else str(outcome.code)
            rungs = [str(x.get("state")) for x in (snapshot or {}).get("rungs", [])]
            print(
                f"{self.tag} tick {self.step_no}: {before} -> {self.last_state} [{code}] rungs={rungs} "
                f"clock={self.ledger.last.get('clock_ms')} px={self.ledger.last.get('px')} "
                f"{outcome.stderr_tail[:160] if outcome.code else ''}",
                file=sys.stderr,
            )

    def drive(self, target: int, deadline: float | None) -> str:
        """Cycles until `target` (this segment's share), the deadline, or a cycle that will not finish."""
        in_cycle, done = 0, self.cycles
        while self.cycles < target:
            if deadline is not None and time.monotonic() > deadline:
                return f"{self.tag}: wall budget {self.c.wall_budget_s:.0f} s"
            if in_cycle >= self.c.max_ticks_per_cycle:
                snapshot = read_snapshot(self.dir) or {}
                return (
                    f"{self.tag}: cycle {self.cycles + 1} still in {snapshot.get('state')} "
                    f"after {self.c.max_ticks_per_cycle} ticks"
                )
            self.tick(chaos=True)
            in_cycle = 0 if self.cycles != done else in_cycle + 1
            done = self.cycles
        return ""

    def settle(self) -> None:
        """Faults off, late requests due, then clean ticks until the machine rests in idle (bounded)."""
        self.sim.set_faults({"rules": []})
        self.sim.advance(10)  # the late kinds apply 3000 ms after arrival on the sim clock
        self.ledger.observe(self.sim.state())
        idle_clean = 0
        for _ in range(self.c.settle_ticks):
            self.tick(chaos=False, settle=True)
            idle_clean = idle_clean + 1 if self.last_clean and self.last_state == "idle" else 0
            if idle_clean >= 2:
                return

    def judge(self) -> None:
        """The final pass over the venue's records and the files; merged into the run's report."""
        r = self.r
        self.ledger.observe(self.sim.state())
        r.faults += sum(int(n) for n in self.sim.stats()["faults"].values())
        journal = Journal.read(self.dir)
        r.torn_lines += journal.unparsable
        judge(read_snapshot(self.dir), self.ledger, journal, self.found)
        check = run_cli(verify_log_args(self.dir), self.sim.env)
        if check.code != 0:
            failed = f"{self.tag} exit {check.code}: {check.stderr_tail}"
            r.verify_log = failed if r.verify_log == "ok" else f"{r.verify_log}; {failed}"
        s = self.script
        r.hand_trades += s.hand_trades
        r.user_cancels += s.user_cancels
        r.hour_jumps += s.hour_jumps
        r.stop_cancels += s.stop_cancels
        r.stop_runs += s.stop_runs
        r.stops_fired += sum(1 for a in self.ledger.algos.values() if a.get("state") == "effective")
        r.cycles += self.cycles
        for name in NAMES:
            mine: dict[str, str] = getattr(self.found, name)
            getattr(r.violations, name).update({f"{self.tag}:{k}": why for k, why in mine.items()})


def run_chaos(config: ChaosConfig) -> ChaosReport:
    """Run one seeded chaos run end to end and judge it; never raises for an invariant violation."""
    started = time.monotonic()
    deadline = None if config.wall_budget_s is None else started + config.wall_budget_s
    report = ChaosReport(seed=config.seed)
    with tempfile.TemporaryDirectory(prefix="okx-fsm-chaos-") as tmp:
        root = config.state_dir or Path(tmp)
        while report.cycles < config.cycles and report.segments < config.max_segments:
            if deadline is not None and time.monotonic() > deadline and report.segments:
                break
            k = report.segments
            report.segments += 1
            seed = config.seed + SEGMENT_SEED_STRIDE * k
            state_dir = root / f"s{k}"
            state_dir.mkdir(parents=True, exist_ok=True)
            with SimProcess(seed) as sim:
                seg = _Segment(config, report, sim, state_dir, seed, f"s{k}")
                seg.startup_s = _startup_s(sim)
                sim.set_faults({"profile": "okx-harsh", "probability": config.harsh, "seed": seed})
                seg.ledger.observe(sim.state())
                stopped = seg.drive(config.cycles - report.cycles, deadline)
                seg.settle()
                seg.judge()
            if stopped:
                report.stopped.append(stopped)
    if ExitStatus.LOCK_HELD in report.exit_codes:
        report.stderr_samples.setdefault(
            ExitStatus.LOCK_HELD, "lock held: ticks are sequential, this must not happen"
        )
    report.seconds = time.monotonic() - started
    return report
