"""The tick's context: everything guards read and actions act on, made fresh for every tick."""

from __future__ import annotations

from dataclasses import dataclass, field

from fsm.engine.roles import OrderRoles, StopRoles
from fsm.engine.runtime import MachineRuntime
from fsm.engine.signals import file_signal, newest_closed_bar_open, robust_twap_signal
from fsm.engine.state import LadderState, Signal
from fsm.engine.view import ExchangeView
from fsm.risk.entries import RiskSetup, entries_refusal
from fsm.risk.gate import Refusal
from fsm.spec.ladder import LadderParams
from fsm.spec.model import MachineSpec


@dataclass
class TickContext:
    """What one tick of one machine knows: its spec, params, order and stop roles, its state, the tick's
    view of OKX, and whether it is armed. Guards read it; actions read it through their ActionEnv."""

    ladder: MachineSpec
    orders: OrderRoles
    order_machine: MachineRuntime  # every observation of a rung goes through it
    stops: StopRoles
    stop_machine: MachineRuntime  # every observation of a stop goes through it
    params: LadderParams
    state: LadderState
    view: ExchangeView
    armed: bool
    adopt: bool = False  # the operator allows taking over orders of ours the state does not know
    entered_closed_this_tick: bool = False
    fills_due: bool = False  # the orders showed a change (a fill, an order gone from pending): read fills
    risk: RiskSetup | None = None  # the machine's hard limits; None: no limits declared, nothing gated
    _signal_memo: list[Signal | None] = field(default_factory=list)
    _risk_memo: list[Refusal | None] = field(default_factory=list)

    def tracks(self, what: str) -> bool:
        """Whether the machine's current state observes `what` (signal, orders, fills, position, stop)."""
        return self.ladder.tracks(self.state.state, what)

    def signal(self) -> Signal | None:
        """This tick's signal (memoised), or None when there is none or no new bar can have closed."""
        if not self._signal_memo:
            self._signal_memo.append(_compute_signal(self))
        return self._signal_memo[0]

    def risk_refusal(self) -> Refusal | None:
        """Why the gate refuses the unsent entries this tick (memoised: the guard and the send agree),
        or None when they may go out (or no limits are declared)."""
        if self.risk is None:
            return None
        if not self._risk_memo:
            self._risk_memo.append(entries_refusal(self, self.risk))
        return self._risk_memo[0]


def _compute_signal(ctx: TickContext) -> Signal | None:
    p, s = ctx.params, ctx.state
    if p.signal.provider == "file":
        assert p.signal.path is not None
        sig = file_signal(p.signal.path, bar=p.bar)
    else:
        newest_closed = newest_closed_bar_open(ctx.view.now_ms(), p.bar)
        if s.last_evaluated_candle_ts is not None and newest_closed <= s.last_evaluated_candle_ts:
            return None  # no new bar can have closed: no candle request this tick
        candles = ctx.view.candles(p.symbol, p.bar, p.signal.candles_limit)
        sig = robust_twap_signal(
            candles, bar=p.bar, lookback=p.signal.lookback_bars, entry_filter=p.signal.entry_filter
        )
    if sig is None:
        return None
    if s.last_signal_candle_ts is not None and sig.candle_ts <= s.last_signal_candle_ts:
        return None
    return sig
