"""The demo: the ETH ladder through two full cycles against an in-process simulator (manual clock).

Every tick goes through the same engine path as `okx-fsm tick --submit` (run_tick with an armed
client); only the market is scripted, between ticks, so one seed always shows the same story:
cycle 1 fills in parts (its stop placed with the first fill and resized), holds, cancels the stop and
closes; cycle 2 never fills, expires and is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange import Instrument, OkxClient
from exchange.sim import Simulator
from fsm.engine.machine import LoadedMachine, load_machine
from fsm.engine.signals import bar_ms
from fsm.engine.state import LadderState
from fsm.engine.tick import Fired, open_machine_state, run_tick
from fsm.engine.view import ExchangeView
from fsm.errors import EngineError, ExitStatus

DEMO_MACHINE = "eth_robust_twap_15m"
# A quiet market (per-minute volatility) so that only the script's moves reach the rungs.
DEMO_VOLATILITY = "0.0002"
SIGNAL_LIFT = Decimal("5")  # how far above the recent highs the signal candle closes
ABOVE_LADDER = Decimal("1.01")  # where the price waits in cycle 2: 1% above the reference
EXPECTED_CYCLES = 2


class DemoRefused(EngineError):
    """The demo writes a fresh state; it will not continue or overwrite an existing one."""


class DemoFailed(EngineError):
    """The scripted story did not end as written: a bug in the engine or the simulator."""

    exit_code = ExitStatus.STORY_BROKEN


Move = Callable[["DemoMarket", LadderState], None]


@dataclass(frozen=True)
class Step:
    """One scripted market move followed by one armed tick."""

    cycle: int
    title: str
    move: Move


@dataclass(frozen=True)
class StepOutcome:
    number: int
    total: int
    cycle: int
    title: str
    now_ms: int
    px: Decimal
    fired: tuple[Fired, ...]
    state: LadderState
    journaled: tuple[str, ...]


@dataclass(frozen=True)
class CycleSummary:
    """One archived cycle as its journal record says (from the journaled fills, never a fresh query)."""

    cycle_id: str
    bought: Decimal  # contracts
    avg_entry_px: Decimal | None
    sold: Decimal
    avg_exit_px: Decimal | None
    fees: Decimal
    realized_pnl: Decimal  # settle currency, fees included


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    state_path: Path
    journal_path: Path
    diagram_path: Path
    final_state: str
    cycles_completed: int
    journal_records: int
    transitions: list[tuple[str, str]]
    cycles: list[CycleSummary]
    requests: dict[str, int]


class DemoMarket:
    """The script's hand on the simulator: price moves on tick boundaries, clock moves by seconds."""

    def __init__(self, sim: Simulator, client: OkxClient, machine: LoadedMachine) -> None:
        self.sim = sim
        self.client = client
        self.symbol = machine.params.symbol
        self.bar = machine.params.bar
        self.bar_ms = bar_ms(self.bar)
        self.lookback = machine.params.signal.lookback_bars
        self.tick_sz = client.get_instrument(self.symbol).tickSz

    @property
    def px(self) -> Decimal:
        return Decimal(self.sim.state()["prices"][self.symbol])

    def set_px(self, px: Decimal) -> None:
        self.sim.set_price(px.quantize(self.tick_sz), self.symbol)

    def advance(self, seconds: int) -> None:
        self.sim.advance(seconds)

    def close_bar(self, above: bool) -> None:
        """Run to the end of the current bar and close it beyond every recent high (or low).

        Above every high, the close is above the median typical price: a robust-TWAP signal. Below
        every low, it is below it: no signal.
        """
        to_bar_end = (self.bar_ms - self.sim.now_ms() % self.bar_ms) // 1000
        if to_bar_end > 1:
            self.advance(to_bar_end - 1)
        candles = self.client.get_candles(self.symbol, self.bar, self.lookback + 1)
        if above:
            self.set_px(max([c.h for c in candles] + [self.px]) + SIGNAL_LIFT)
        else:
            self.set_px(min([c.l for c in candles] + [self.px]) - SIGNAL_LIFT)
        self.advance(1)
        self.advance(5)  # a few seconds into the next bar, so the candle is confirmed


def _signal(m: DemoMarket, s: LadderState) -> None:
    m.close_bar(above=True)


def _no_signal(m: DemoMarket, s: LadderState) -> None:
    m.close_bar(above=False)


def _trade_through(level: int, seconds: int) -> Move:
    """Trade just below rung `level` and let the book work (partial fills are bounded per step)."""

    def move(m: DemoMarket, s: LadderState) -> None:
        m.set_px(s.rungs[level - 1].px - 1)
        m.advance(seconds)

    return move


def _hold(bars: int) -> Move:
    def move(m: DemoMarket, s: LadderState) -> None:
        m.set_px(m.px + 3)  # the market recovers above the entries while the position is held
        m.advance(bars * m.bar_ms // 1000)

    return move


def _wait(seconds: int) -> Move:
    def move(m: DemoMarket, s: LadderState) -> None:
        m.advance(seconds)

    return move


def _drift_above_ladder(bars: int) -> Move:
    def move(m: DemoMarket, s: LadderState) -> None:
        assert s.signal is not None
        for _ in range(bars):
            m.set_px(s.signal.ref_px * ABOVE_LADDER)
            m.advance(m.bar_ms // 1000)

    return move


def script(hold_bars: int, expiry_bars: int) -> list[Step]:
    """The demo's market story, one armed tick after each move."""
    expiry = expiry_bars + 1
    return [
        Step(1, "a 15m candle closes above the robust-TWAP reference", _signal),
        Step(1, "the price dips through rung 1: the stop goes on OKX", _trade_through(1, 5)),
        Step(1, "the price falls through rungs 2 and 3: the stop follows", _trade_through(3, 360)),
        Step(1, f"holding: {hold_bars // 2} bars pass", _hold(hold_bars // 2)),
        Step(
            1,
            f"the hold time ({hold_bars} bars) is up: the stop is cancelled first",
            _hold(hold_bars - hold_bars // 2 + 1),
        ),
        Step(1, "a few seconds later: OKX shows the stop ended, the exit goes", _wait(5)),
        Step(1, "a few seconds later", _wait(5)),
        Step(1, "the next bar closes below the recent lows (no signal)", _no_signal),
        Step(2, "another candle closes above the reference", _signal),
        Step(2, f"the price stays above the ladder for {expiry} bars", _drift_above_ladder(expiry)),
        Step(2, "a few seconds later", _wait(5)),
        Step(2, "the next bar closes below the recent lows (no signal)", _no_signal),
    ]


def run_demo(
    *,
    seed: int,
    state_dir: Path,
    on_step: Callable[[StepOutcome], None],
    on_start: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Run the scripted two cycles; `on_step` sees every tick's outcome as it happens."""
    machine = load_machine(DEMO_MACHINE, state_dir=state_dir)
    if machine.state_path.exists() or machine.state_path.with_suffix(".jsonl").exists():
        raise DemoRefused(
            f"{machine.state_path} already exists: the demo starts a fresh machine; "
            "give it an empty --state-dir (or none, for a temporary one)"
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    p = machine.params
    steps = script(p.hold_bars, p.expiry_bars)
    if on_start is not None:
        on_start(len(steps))
    with Simulator(seed=seed, clock="manual", volatility=DEMO_VOLATILITY) as sim:
        client = OkxClient(
            sim.api_key,
            sim.secret_key,
            sim.passphrase,
            base_url=sim.base_url,
            demo=True,
            armed=True,
            clock=lambda: sim.now_ms() / 1000,  # the manual clock: no wall-clock jitter in the journal
        )
        market = DemoMarket(sim, client, machine)
        instruments: dict[str, Instrument] = {}
        with open_machine_state(machine) as (store, state):
            for number, step in enumerate(steps, start=1):
                step.move(market, state)
                view = ExchangeView(client, instruments=instruments)
                result = run_tick(machine, store, state, view, trader=client)
                on_step(
                    StepOutcome(
                        number=number,
                        total=len(steps),
                        cycle=step.cycle,
                        title=step.title,
                        now_ms=view.now_ms(),
                        px=market.px,
                        fired=tuple(result.fired),
                        state=result.state,
                        journaled=tuple(result.journaled),
                    )
                )
            final, records = state.state, store.cursor.seq
            completed = state.cycles_completed
        requests = dict(sim.stats()["requests"])
    diagram_path = _draw(machine, state_dir, final)
    journal_path = machine.state_path.with_suffix(".jsonl")
    transitions, cycles = _journal_story(journal_path)
    summary = DemoSummary(
        seed=seed,
        state_path=machine.state_path,
        journal_path=journal_path,
        diagram_path=diagram_path,
        final_state=final,
        cycles_completed=completed,
        journal_records=records,
        transitions=transitions,
        cycles=cycles,
        requests=requests,
    )
    if final != "idle" or completed != EXPECTED_CYCLES:
        raise DemoFailed(
            f"the demo ended in {final} after {completed} cycle(s), not in idle after {EXPECTED_CYCLES}; "
            f"the journal {journal_path} shows what happened"
        )
    return summary


def _journal_story(journal: Path) -> tuple[list[tuple[str, str]], list[CycleSummary]]:
    """The transitions and the archived cycles' results, read back from the journal."""
    from fsm.persist.journal import read_journal

    records = read_journal(journal).records
    transitions = [(str(r.data["from"]), str(r.data["to"])) for r in records if r.kind == "transition"]
    return transitions, [_archived(r.data) for r in records if r.kind == "archive"]


def _archived(data: Mapping[str, Any]) -> CycleSummary:
    summary = data["summary"]

    def opt(name: str) -> Decimal | None:
        value = summary[name]
        return None if value is None else Decimal(value).quantize(Decimal("0.01"))

    return CycleSummary(
        cycle_id=str(data["cycle_id"]),
        bought=Decimal(summary["bought"]),
        avg_entry_px=opt("avg_entry"),
        sold=Decimal(summary["sold"]),
        avg_exit_px=opt("avg_exit"),
        fees=Decimal(summary["fees"]),
        realized_pnl=Decimal(summary["realized_pnl"] or "0").quantize(Decimal("0.0001")),
    )


def _draw(machine: LoadedMachine, state_dir: Path, current: str) -> Path:
    """The machine as SVG (pygraphviz), or as Mermaid text when the diagram extra is missing."""
    from fsm.spec import diagram

    svg = state_dir / f"{machine.name}.svg"
    try:
        diagram.render(machine.spec, "svg", svg, current=current)
        return svg
    except ImportError:
        mmd = svg.with_suffix(".mmd")
        mmd.write_text(diagram.to_mermaid(machine.spec, current=current))
        return mmd
