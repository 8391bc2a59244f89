"""The chaos run: the real CLI ticking against `okx-harsh` with random SIGKILLs, a settle, a judgement.

A run is one or more segments. A segment is one simulator subprocess and one state directory: it
drives cycles until the run's target, its wall-time budget (if it has one), or a cycle that will not finish
(`max_ticks_per_cycle`); then it settles (faults off, deadlines passed, clean ticks) and is judged.
A segment stopped by a cycle that would not finish is counted (`stuck`) and the run goes on in a
fresh segment (seed + 1000 x segment), so one stuck cycle does not end the search for the others.

A portfolio run (`portfolio(config)`) ticks several machines in turn on one account (one state
directory) under a limits file: each machine is judged as the single one is (scoped to its clOrdId
prefix), and after every tick the account's exposure of our orders on the venue is judged against
the limits.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.chaos_lib.judge import NAMES, Violations, check_exposure, check_protected, check_rungs, judge
from bench.chaos_lib.records import Journal, VenueLedger, read_snapshot
from bench.chaos_lib.script import MarketScript
from bench.chaos_lib.sim import (
    ETH_LADDER,
    PORTFOLIO,
    PORTFOLIO_HAND_CAP,
    PORTFOLIO_LIMITS,
    REPO,
    ChaosMachine,
    SimProcess,
    okx_fsm_command,
)
from bench.chaos_lib.ticks import TIMED_OUT, run_cli, tick_args, verify_log_args
from exchange.sim.instruments import INSTRUMENTS
from fsm.errors import ExitStatus
from fsm.risk.gate import RISK_RECORD
from fsm.spec.limits import load_limits

SEGMENT_SEED_STRIDE = 1000
MACHINE_SEED_STRIDE = 7919  # the market script of machine i > 0 runs on seed + this x i
LIMITS_ENV = "OKX_FSM_LIMITS"  # the CLI's --limits, for every tick of a run with limits
CT_VALS = {inst_id: inst.ct_val for inst_id, inst in INSTRUMENTS.items()}  # the venue's contract values


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
    machines: tuple[ChaosMachine, ...] = (ETH_LADDER,)  # ticked in turn, one state directory: one account
    limits: Path | None = None  # the limits file every tick runs under, and the account is judged by
    hand_cap: Decimal | None = None  # each script's hand trades sell out once they hold this many contracts


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
    refusals: int = 0  # `risk` records in the journals: entries the hard limits refused, nothing sent
    exposure_judged: int = 0  # ticks after which the account's exposure was judged against the limits
    cycles_by_machine: Counter[str] = field(default_factory=Counter)

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
        by_machine = ",".join(f"{name}:{n}" for name, n in sorted(self.cycles_by_machine.items()))
        limits = (
            f" refusals={self.refusals} exposure_judged={self.exposure_judged} "
            f"cycles_by_machine={{{by_machine}}}"
            if self.exposure_judged
            else ""
        )
        return (
            f"chaos: seed={self.seed} cycles={self.cycles} ticks={self.ticks} kills={self.kills} "
            f"faults={self.faults} exit_codes={{{codes}}} {counts} verify_log={self.verify_log} "
            f"[overlapping={len(self.violations.overlapping)} kills_after_io={self.kills_after_io} "
            f"kills_after_post={self.kills_after_post} segments={self.segments} "
            f"hand_trades={self.hand_trades} user_cancels={self.user_cancels} "
            f"hour_jumps={self.hour_jumps} stop_cancels={self.stop_cancels} stop_runs={self.stop_runs} "
            f"stops_fired={self.stops_fired} protection_judged={self.protection_judged} "
            f"faulted_clean={self.faulted_clean} unprotected_after_fault={self.unprotected_after_fault}"
            f"{limits}{stopped}] ({self.seconds:.1f} s)"
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


class _Machine:
    """One machine of the segment: its view of the venue, its market script, its findings, its progress.

    The first machine keeps the single-machine run's seeds, so that run is what it always was."""

    def __init__(self, config: ChaosConfig, spec: ChaosMachine, seed: int, index: int) -> None:
        self.spec = spec
        self.ledger = VenueLedger(prefix=spec.prefix, symbol=spec.symbol)
        self.found = Violations()
        self.script = MarketScript(
            seed + MACHINE_SEED_STRIDE * index,
            machine=spec,
            hand_tag=f"m{index}" if index else "",
            hand_cap=config.hand_cap,
            hand_p=config.hand_p,
            user_cancel_p=config.user_cancel_p,
            hours_p=config.hours_p,
        )
        self.kill_rng = random.Random(f"{seed}:kill" if not index else f"{seed}:kill:{index}")
        self.last_clean = True
        self.last_state: str | None = None
        self.cycles = 0
        self.in_cycle = 0  # this machine's ticks since its last finished cycle


class _Segment:
    """One simulator and one state directory (every machine's files, as one account's), driven, settled
    and judged."""

    def __init__(
        self, config: ChaosConfig, report: ChaosReport, sim: SimProcess, state_dir: Path, seed: int, tag: str
    ) -> None:
        self.c = config
        self.r = report
        self.sim = sim
        self.dir = state_dir
        self.tag = tag
        self.machines = [_Machine(config, spec, seed, i) for i, spec in enumerate(config.machines)]
        self.account = Violations()  # the account's limits, judged over every machine's orders
        self.limits = None if config.limits is None else load_limits(config.limits).limits
        self.env = dict(sim.env) if config.limits is None else {**sim.env, LIMITS_ENV: str(config.limits)}
        self.venue: dict[str, Any] = {}
        self.step_no = 0
        self.startup_s = 0.0

    @property
    def cycles(self) -> int:
        return sum(m.cycles for m in self.machines)

    def where(self, m: _Machine) -> str:
        return self.tag if len(self.machines) == 1 else f"{self.tag}/{m.spec.name}"

    def observe(self) -> None:
        """Every machine's view of the venue from one `/sim/state`."""
        self.venue = self.sim.state()
        for m in self.machines:
            m.ledger.observe(self.venue)

    def tick(self, m: _Machine, *, chaos: bool, settle: bool = False) -> None:
        """One step of machine `m`: move its market, run its tick (maybe killed), observe the venue and its
        state file, judge its rungs and protection and the account's limits."""
        r = self.r
        m.script.step(
            self.sim,
            self.step_no,
            read_snapshot(self.dir, m.spec.name),
            self.venue,
            last_tick_clean=m.last_clean,
            last_state=m.last_state,
            events=chaos,
            settle=settle,
        )
        self.step_no += 1
        delay = None
        roll, frac = m.kill_rng.random(), m.kill_rng.random()
        if chaos and roll < self.c.kill:
            delay = self.startup_s + 0.003 + frac * (self.c.kill_window_s - 0.003)
        stats_before = self.sim.stats()
        outcome = run_cli(tick_args(self.dir, m.spec.machine), self.env, kill_after_s=delay)
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
        m.last_clean = not outcome.killed and outcome.code == 0
        faulted = _write_faults(stats_after) != _write_faults(stats_before)
        self.observe()
        before = m.last_state
        snapshot = read_snapshot(self.dir, m.spec.name)
        m.last_state = str(snapshot.get("state")) if snapshot else None
        where = f"{self.where(m)} after tick {self.step_no}"
        if snapshot is not None:
            m.cycles = int(snapshot.get("cycles_completed", 0))
            check_rungs(
                list(snapshot.get("rungs", [])),
                m.ledger,
                f"{where} ({m.last_state})",
                m.found.invented_terminals,
            )
        if m.last_clean and faulted:
            r.faulted_clean += 1
            after_fault = Violations()
            check_protected(snapshot, m.ledger, "", after_fault)
            r.unprotected_after_fault += len(after_fault.unprotected)
        elif m.last_clean:
            r.protection_judged += 1
            check_protected(snapshot, m.ledger, where, m.found)
        if self.limits is not None:
            r.exposure_judged += 1
            check_exposure([x.ledger for x in self.machines], self.limits, CT_VALS, where, self.account)
        if self.c.trace:
            code = "kill" if outcome.killed else str(outcome.code)
            rungs = [str(x.get("state")) for x in (snapshot or {}).get("rungs", [])]
            print(
                f"{self.where(m)} tick {self.step_no}: {before} -> {m.last_state} [{code}] rungs={rungs} "
                f"clock={self.venue.get('clock_ms')} px={self.venue.get('prices', {}).get(m.spec.symbol)} "
                f"{outcome.stderr_tail[:160] if outcome.code else ''}",
                file=sys.stderr,
            )

    def drive(self, target: int, deadline: float | None) -> str:
        """Rounds of one tick per machine until `target` cycles in all (this segment's share), the
        deadline, or a machine's cycle that will not finish."""
        while self.cycles < target:
            if deadline is not None and time.monotonic() > deadline:
                return f"{self.tag}: wall budget {self.c.wall_budget_s:.0f} s"
            for m in self.machines:
                if m.in_cycle >= self.c.max_ticks_per_cycle:
                    snapshot = read_snapshot(self.dir, m.spec.name) or {}
                    return (
                        f"{self.where(m)}: cycle {m.cycles + 1} still in {snapshot.get('state')} "
                        f"after {self.c.max_ticks_per_cycle} ticks"
                    )
            for m in self.machines:
                done = m.cycles
                self.tick(m, chaos=True)
                m.in_cycle = 0 if m.cycles != done else m.in_cycle + 1
        return ""

    def settle(self) -> None:
        """Faults off, late requests due, then rounds of clean ticks until every machine rests in idle
        (bounded)."""
        self.sim.set_faults({"rules": []})
        self.sim.advance(10)  # the late kinds apply 3000 ms after arrival on the sim clock
        self.observe()
        idle_clean = dict.fromkeys(range(len(self.machines)), 0)
        for _ in range(self.c.settle_ticks):
            for i, m in enumerate(self.machines):
                self.tick(m, chaos=False, settle=True)
                idle_clean[i] = idle_clean[i] + 1 if m.last_clean and m.last_state == "idle" else 0
            if min(idle_clean.values()) >= 2:
                return

    def judge(self) -> None:
        """The final pass over the venue's records and the files; merged into the run's report."""
        r = self.r
        self.observe()
        r.faults += sum(int(n) for n in self.sim.stats()["faults"].values())
        for m in self.machines:
            journal = Journal.read(self.dir, m.spec.name)
            r.torn_lines += journal.unparsable
            r.refusals += sum(1 for record in journal.records if record.get("kind") == RISK_RECORD)
            judge(read_snapshot(self.dir, m.spec.name), m.ledger, journal, m.found)
            check = run_cli(verify_log_args(self.dir, m.spec.machine), self.env)
            if check.code != 0:
                failed = f"{self.where(m)} exit {check.code}: {check.stderr_tail}"
                r.verify_log = failed if r.verify_log == "ok" else f"{r.verify_log}; {failed}"
            s = m.script
            r.hand_trades += s.hand_trades
            r.user_cancels += s.user_cancels
            r.hour_jumps += s.hour_jumps
            r.stop_cancels += s.stop_cancels
            r.stop_runs += s.stop_runs
            r.stops_fired += sum(
                1
                for a in m.ledger.algos.values()
                if a.get("state") == "effective" and m.ledger.ours(str(a.get("algoClOrdId") or ""))
            )
            r.cycles += m.cycles
            r.cycles_by_machine[m.spec.name] += m.cycles
            self.merge(m.found, f"{self.where(m)}:")
        self.merge(self.account, f"{self.tag}:")

    def merge(self, found: Violations, key: str) -> None:
        for name in NAMES:
            mine: dict[str, str] = getattr(found, name)
            getattr(self.r.violations, name).update({f"{key}{k}": why for k, why in mine.items()})


def portfolio(config: ChaosConfig) -> ChaosConfig:
    """`config` as a portfolio run: three machines on one account under the run's limits file, each
    script's hand trades bounded so they never crowd the limits out for good."""
    return replace(config, machines=PORTFOLIO, limits=PORTFOLIO_LIMITS, hand_cap=PORTFOLIO_HAND_CAP)


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
                seg.observe()
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
