"""The ladder's guards: small pure predicates over (params, state, ExchangeView).

A guard never POSTs and never changes the state; the only memo it keeps is the tick's signal, so a
preview and a fire in the same tick agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fsm.engine import ownership
from fsm.engine.signals import file_signal, newest_closed_bar_open, robust_twap_signal
from fsm.engine.state import LadderState, Signal
from fsm.engine.view import ExchangeView
from fsm.spec.ladder import LadderParams


@dataclass
class TickContext:
    """What one tick of one machine knows: params, state, the tick's view, and whether it is armed."""

    params: LadderParams
    state: LadderState
    view: ExchangeView
    armed: bool
    adopt: bool = False  # the operator allows taking over orders of ours the state does not know
    entered_closed_this_tick: bool = False
    _signal_memo: list[Signal | None] = field(default_factory=list)

    def signal(self) -> Signal | None:
        """This tick's signal (memoised), or None when there is none or no new bar can have closed."""
        if not self._signal_memo:
            self._signal_memo.append(_compute_signal(self))
        return self._signal_memo[0]


def _compute_signal(ctx: TickContext) -> Signal | None:
    p, s = ctx.params, ctx.state
    if p.signal.provider == "file":
        assert p.signal.path is not None
        sig = file_signal(p.signal.path, bar=p.bar)
    else:
        newest_closed = newest_closed_bar_open(ctx.view.now_ms(), p.bar)
        if s.last_evaluated_candle_ts is not None and newest_closed <= s.last_evaluated_candle_ts:
            return None  # no new bar can have closed: no candle request this tick
        candles = ctx.view.candles(p.symbol, p.bar, p.signal.lookback_bars + 2)
        sig = robust_twap_signal(
            candles, bar=p.bar, lookback=p.signal.lookback_bars, entry_filter=p.signal.entry_filter
        )
    if sig is None:
        return None
    if s.last_signal_candle_ts is not None and sig.candle_ts <= s.last_signal_candle_ts:
        return None
    return sig


def signal_ready(ctx: TickContext) -> bool:
    """A new confirmed candle gives a signal that passes the entry filter."""
    return ctx.signal() is not None


def entry_expired(ctx: TickContext) -> bool:
    """Exchange time has reached the entry expiry (signal candle close + expiry_bars)."""
    return ctx.state.expiry_ts is not None and ctx.view.now_ms() >= ctx.state.expiry_ts


def submit_armed(ctx: TickContext) -> bool:
    """The tick runs with an armed client (an explicit --submit)."""
    return ctx.armed


def submit_in_doubt(ctx: TickContext) -> bool:
    """A place request of ours may still apply: a rung is submitting (a crash around its POST) or
    unknown (an ambiguous answer), and a query by clOrdId has not settled it yet."""
    return any(r.state in ("submitting", "unknown") for r in ctx.state.rungs)


def any_fill(ctx: TickContext) -> bool:
    """OKX shows some contracts filled on some rung."""
    return ctx.state.filled_sz > 0


def all_rungs_terminal(ctx: TickContext) -> bool:
    """Every rung has reached a terminal order state on exchange evidence."""
    return bool(ctx.state.rungs) and all(r.terminal for r in ctx.state.rungs)


def cancel_retry_due(ctx: TickContext) -> bool:
    """Some rung is still not terminal `cancel_retry_seconds` after the last cancel request."""
    s = ctx.state
    if s.last_cancel_ts is None or all(r.terminal for r in s.rungs):
        return False
    return ctx.view.now_ms() - s.last_cancel_ts >= ctx.params.cancel_retry_seconds * 1000


def position_flat(ctx: TickContext) -> bool:
    """Nothing of ours is left: our own fills net to zero, or OKX holds nothing on our side any more
    (closed by hand); with no exit in flight and every fill OKX reports for our orders journaled."""
    s, p = ctx.state, ctx.params
    if ownership.exit_in_flight(s) or not ownership.fills_accounted(s):
        return False
    return s.own_open(p.side) == 0 or ownership.okx_held(p, s, ctx.view) == 0


def exit_due(ctx: TickContext) -> bool:
    """The hold time is up (entry start + hold_bars, exchange time)."""
    return ctx.state.exit_due_ts is not None and ctx.view.now_ms() >= ctx.state.exit_due_ts


def close_requested(ctx: TickContext) -> bool:
    """The operator asked for the close (a journaled operator command)."""
    req = ctx.state.close_request
    return req is not None and req.requested_by == "operator"


def close_sent(ctx: TickContext) -> bool:
    """An exit order is in flight: sent, and not yet shown ended by OKX with its fills journaled
    (never sent twice blindly; a new attempt only after the last one ended short)."""
    return ownership.exit_in_flight(ctx.state)


def strays_on_book(ctx: TickContext) -> bool:
    """OKX shows working an order of ours that its rung holds as ended (a rung never left on the book)."""
    return any(r.stray for r in ctx.state.rungs)


def stray_cancel_due(ctx: TickContext) -> bool:
    """A stray order of ours has not been asked to cancel within the retry interval."""
    now, retry_ms = ctx.view.now_ms(), ctx.params.cancel_retry_seconds * 1000
    return any(
        r.stray and (r.cancel_sent_ts is None or now - r.cancel_sent_ts >= retry_ms) for r in ctx.state.rungs
    )


def paused(ctx: TickContext) -> bool:
    """The operator paused the machine: no new cycle starts (working orders are left as they are)."""
    return ctx.state.paused


def flatten_requested(ctx: TickContext) -> bool:
    """The operator asked to flatten: cancel every working rung, then exit our own position."""
    return ctx.state.flatten_requested


def closed_in_earlier_tick(ctx: TickContext) -> bool:
    """`closed` was entered in an earlier tick, so this tick may start the next cycle."""
    return not ctx.entered_closed_this_tick


GUARDS: Mapping[str, Callable[[TickContext], bool]] = {
    "signal_ready": signal_ready,
    "entry_expired": entry_expired,
    "submit_armed": submit_armed,
    "submit_in_doubt": submit_in_doubt,
    "any_fill": any_fill,
    "all_rungs_terminal": all_rungs_terminal,
    "cancel_retry_due": cancel_retry_due,
    "position_flat": position_flat,
    "exit_due": exit_due,
    "close_requested": close_requested,
    "close_sent": close_sent,
    "strays_on_book": strays_on_book,
    "stray_cancel_due": stray_cancel_due,
    "closed_in_earlier_tick": closed_in_earlier_tick,
    "paused": paused,
    "flatten_requested": flatten_requested,
}
