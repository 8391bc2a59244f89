"""The replay driver: the real engine ticked against the simulator, whose clock and price it steps
through historical bars.

Each bar becomes its price path (fsm.replay.path) inside an in-process simulator (no socket; the
client signs, sends and parses as over HTTP) whose candles of the machine's bar are the file's bars up
to the clock and none after. The engine ticks at every deadline the machine holds (entry expiry, exit
due, cancel retry, a request's expTime) and at every path point where a tick may see something new
(`Replay._due`), and again at the same instant while a tick journaled (an exit at market is seen filled
at once): the price only moves at path points, so that is what a runner ticking at any shorter
interval would see (tests/cli/test_replay_parity.py holds `okx-fsm run` to it), and a point skipped
changes no byte of the journal. A state that tracks only the signal (the YAML's `tracks`) can change
only when a bar closes, so there the tick runs at the bar's first point only; one that tracks orders
and fills, only after an order or algo change, a deadline or a tick that journaled. Funding, when a
file is given, is charged by the simulator at its times; its bills are written beside the journal. A
bar's close is fed once the clock reaches it; a gap in the file is crossed with the clock, the price
standing still and no bar made up. Everything runs on exchange time from a seeded simulator, so the
same bars, machine, params and model give a byte-identical journal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange import Candle, OkxClient
from exchange.bars import bar_ms
from exchange.sim import Simulator
from exchange.sim.fillmodel import BASE_MAKER_RATE, BASE_TAKER_RATE, FillModel
from exchange.sim.inprocess import IN_PROCESS_URL
from fsm.engine.machine import LoadedMachine
from fsm.engine.observe import DEADLINE_MARGIN_MS
from fsm.engine.state import LadderState
from fsm.engine.tick import TickResult, open_machine_state, run_tick
from fsm.engine.view import ExchangeView, TimeSync
from fsm.errors import EngineError, ExitStatus
from fsm.replay.funding import Rate
from fsm.replay.path import NEARER, bar_path

REPLAY_KIND = "replay"  # the journal's first record: what was replayed, and how
VENUE_FILLS = "venue_fills.jsonl"  # the simulator's fills (OKX's fill objects), written at the end
VENUE_BILLS = "venue_bills.jsonl"  # its funding bills (OKX's account bills), written at the end
MAX_TICKS_AT_ONCE = 8  # ticks at one instant while each journals (a machine that never settles goes on)


class ReplayError(EngineError):
    """A replay that cannot run as asked (no bar in the range, a price off the instrument's tick)."""

    exit_code = ExitStatus.USAGE


@dataclass(frozen=True)
class ReplayModel:
    """The fill model, each part a flag of `replay` with this default."""

    path_order: str = NEARER
    slippage_bp: Decimal = Decimal(3)
    maker_rate: Decimal = BASE_MAKER_RATE
    taker_rate: Decimal = BASE_TAKER_RATE
    balance: Decimal = Decimal(100_000)
    seed: int = 0
    funding_file: str | None = None  # None: funding off
    funding: tuple[Rate, ...] = ()

    def fill_model(self) -> FillModel:
        """Resting orders fill only when the path trades through their price; market orders slip."""
        return FillModel(self.maker_rate, self.taker_rate, fill_on_touch=False, slippage_bp=self.slippage_bp)

    def simulator(self, start_ms: int, bar: str, symbol: str) -> Simulator:
        """The venue a replay runs against (not started: a replay reaches it in process, a parity run
        over loopback): manual clock from `start_ms`, a market that moves only when set, no rate limits,
        this fill model, and `bar`'s candles of `symbol` only those fed."""
        sim = Simulator(
            seed=self.seed,
            clock="manual",
            start_ms=start_ms,
            volatility="0",
            balance=self.balance,
            rate_limits=False,
            fill_model=self.fill_model(),
        )
        sim.replay_bars(bar, symbol)
        sim.set_funding(symbol, ((r.ts, r.rate) for r in self.funding))
        return sim

    def to_dict(self) -> dict[str, Any]:
        return {
            "path_order": self.path_order,
            **self.fill_model().to_dict(),
            "balance": str(self.balance),
            "seed": self.seed,
            "funding": None
            if self.funding_file is None
            else {"file": self.funding_file, "rates": len(self.funding)},
            "partial_fills": "the simulator's: at most half an order's size per step",
            "fsync": False,  # the journal is re-creatable from the same inputs
        }


@dataclass
class Progress:
    """Where a replay stands, after each bar."""

    bars: int = 0
    now_ms: int = 0
    cycles: int = 0


@dataclass
class Summary:
    """What the replay's journal holds, counted as its records were written."""

    bars: int = 0
    ticks: int = 0
    gaps: list[dict[str, int]] = field(default_factory=list)
    cycles: int = 0
    fills: int = 0
    anomalies: int = 0
    realized_pnl: Decimal = Decimal(0)
    first_ts: int | None = None
    last_ts: int | None = None

    def take(self, result: TickResult) -> None:
        self.ticks += 1
        for kind, data in result.records:
            if kind == "fill":
                self.fills += 1
            elif kind == "anomaly":
                self.anomalies += 1
            elif kind == "archive" and data["summary"].get("realized_pnl") is not None:
                self.realized_pnl += Decimal(data["summary"]["realized_pnl"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "bars": self.bars,
            "ticks": self.ticks,
            "gaps": self.gaps,
            "cycles": self.cycles,
            "fills": self.fills,
            "anomalies": self.anomalies,
            "realized_pnl": str(self.realized_pnl),
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
        }


def deadlines(state: LadderState, machine: LoadedMachine) -> list[int]:
    """Every instant at which a guard of the machine may turn without the price moving."""
    p = machine.params
    out = [state.expiry_ts, state.exit_due_ts]
    if state.last_cancel_ts is not None:
        out.append(state.last_cancel_ts + p.cancel_retry_seconds * 1000)
    exp_times = [r.exp_time_ms for r in state.rungs]
    if state.close_request is not None:
        exp_times.append(state.close_request.exp_time_ms)
    out += [t + DEADLINE_MARGIN_MS + 1 for t in exp_times if t is not None]  # "passed" is strictly after
    return sorted({t for t in out if t is not None})


def step_to(sim: Simulator, ts: int, due: Callable[[], list[int]], tick: Callable[[], None]) -> None:
    """Bring the simulator's clock to `ts`, ticking at every deadline (`due`, asked again after each
    tick) that comes before it: the price stands still in between, so only a deadline can turn a guard."""
    while True:
        now = sim.now_ms()
        ahead = [d for d in due() if now < d < ts]
        if not ahead:
            break
        sim.advance(Decimal(ahead[0] - now) / 1000)
        tick()
    if ts > sim.now_ms():
        sim.advance(Decimal(ts - sim.now_ms()) / 1000)


class Replay:
    """One replay of `machine` (state and journal under its state directory) over candles."""

    def __init__(self, machine: LoadedMachine, model: ReplayModel, record: dict[str, Any]) -> None:
        self.machine = machine
        self.model = model
        self.record = record  # what the first journal record says besides the model
        self.span = bar_ms(machine.params.bar)
        self.summary = Summary()

    def run(self, candles: Iterable[Candle], on_bar: Callable[[Progress], None] | None = None) -> Summary:
        iterator = iter(candles)
        first = next(iterator, None)
        if first is None:
            raise ReplayError("no bar of the candle file falls in the range asked for")
        p = self.machine.params
        sim = self.model.simulator(first.ts, p.bar, p.symbol)
        seconds = lambda: sim.now_ms() / 1000  # noqa: E731 - the client's clocks are the simulator's
        client = OkxClient(
            sim.api_key,
            sim.secret_key,
            sim.passphrase,
            base_url=IN_PROCESS_URL,
            armed=True,
            session=sim.in_process(),
            clock=seconds,
            monotonic=seconds,
            sleep=sim.advance,  # a wait for the rate limit passes on the simulator's clock
        )
        instruments: dict[str, Any] = {}
        time_sync = TimeSync(clock=seconds, exact=True)  # the client's clock is the simulator's
        with open_machine_state(self.machine, durable=False) as (store, state):
            store.commit(
                REPLAY_KIND, {**self.record, "model": self.model.to_dict()}, state.to_dict(), first.ts
            )

            seen = _Seen()

            def tick() -> None:
                """Tick, and again at the same instant while the last tick journaled: what it sent (an
                exit at market fills at once) or fired (a row waiting for a later tick) is seen now, as a
                runner ticking often sees it at its next tick, not at the next point or deadline."""
                for _ in range(MAX_TICKS_AT_ONCE):
                    view = ExchangeView(client, instruments=instruments, time_sync=time_sync)
                    result = run_tick(self.machine, store, state, view, trader=client)
                    self.summary.take(result)
                    seen.journaled, seen.changes, seen.at = bool(result.records), sim.changes, sim.now_ms()
                    if not result.records:
                        break

            def until(ts: int) -> None:
                step_to(sim, ts, lambda: deadlines(state, self.machine), tick)

            previous: Candle | None = None
            for candle in _chained(first, iterator):
                if previous is not None and candle.ts - previous.ts > self.span:
                    self.summary.gaps.append({"after_ts": previous.ts, "next_ts": candle.ts})
                for index, point in enumerate(bar_path(candle, self.span, self.model.path_order, p.side)):
                    until(point.ts)
                    try:
                        sim.set_price(point.px, p.symbol)
                    except ValueError as exc:
                        raise ReplayError(f"bar {candle.ts}: {point.px} for {p.symbol}: {exc}") from None
                    if self._due(index, state, seen, sim.changes, sim.now_ms()):
                        tick()
                until(candle.ts + self.span)
                sim.feed_bar([str(v) for v in candle.raw], p.symbol)
                previous = candle
                self._count(candle, state)
                if on_bar is not None:
                    on_bar(Progress(self.summary.bars, sim.now_ms(), state.cycles_completed))
            venue = sim.state()
            self._write_venue(VENUE_FILLS, venue["fills"])
            self._write_venue(VENUE_BILLS, venue["bills"])
        client.close()
        return self.summary

    def _write_venue(self, name: str, rows: list[dict[str, Any]]) -> None:
        """The simulator's own records (fills, bills), one JSON object a line, beside the journal: the
        venue's evidence a report (or a test) checks the journal against, or reads what the engine does
        not journal (funding)."""
        lines = "".join(json.dumps(r, sort_keys=True, separators=(",", ":")) + "\n" for r in rows)
        (self.machine.state_path.parent / name).write_text(lines, encoding="utf-8")

    def _due(self, index: int, state: LadderState, seen: _Seen, changes: int, now: int) -> bool:
        """Whether a tick at the `index`th point of a bar's path may see what the last tick did not.

        The signal changes only when a bar closes: at a bar's first point. Orders and fills change only
        with an order or algo change on the account (the simulator counts them, as its private channel
        pushes them), so a state that observes nothing else needs no tick while none came, its last
        tick journaled nothing (a tick that did may fire the next row), no deadline came since it (one
        between points is ticked apart, one on a point here) and no rung is a stray (whose cancel is
        retried on a timer). The position (its upl, its mark) moves with every price: where it is
        observed, every point is ticked.
        """
        tracks = self.machine.spec.state(state.state).tracks
        if index == 0 and "signal" in tracks:
            return True
        if tracks <= {"signal"}:
            return False
        if seen.journaled or changes != seen.changes or any(r.stray for r in state.rungs):
            return True
        if any(seen.at < d <= now for d in deadlines(state, self.machine)):
            return True
        return "position" in tracks or "stop" in tracks or state.own_open(self.machine.params.side) != 0

    def _count(self, candle: Candle, state: LadderState) -> None:
        s = self.summary
        s.bars += 1
        s.first_ts = candle.ts if s.first_ts is None else s.first_ts
        s.last_ts = candle.ts
        s.cycles = state.cycles_completed


@dataclass
class _Seen:
    """What the last tick left: whether it journaled, and the simulator's change count after it."""

    journaled: bool = True
    changes: int = -1
    at: int = -1  # exchange ms


def _chained(first: Candle, rest: Iterable[Candle]) -> Iterable[Candle]:
    yield first
    yield from rest


def out_dir_for(machine: str, base: Path) -> Path:
    """A new directory for a replay's files under `base`: replay-<machine>-<n>, the first n unused."""
    n = 1
    while (base / f"replay-{machine}-{n}").exists():
        n += 1
    return base / f"replay-{machine}-{n}"
