"""The ladder's guards: small pure predicates over the tick's context.

A guard never POSTs and never changes the state; the only memo it keeps is the tick's signal, so a
preview and a fire in the same tick agree. Each is registered with what it reads (`@guard("orders")`):
`check` refuses a row whose source state does not track that.
"""

from __future__ import annotations

from collections.abc import Callable

from fsm.engine import ownership
from fsm.engine.context import TickContext
from fsm.spec.model import Needs

GuardFn = Callable[[TickContext], bool]
GUARDS: dict[str, GuardFn] = {}
GUARD_NEEDS: dict[str, Needs] = {}


def guard(*reads: str) -> Callable[[GuardFn], GuardFn]:
    """Register a guard under its function's name, with what it reads of the tick."""

    def register(fn: GuardFn) -> GuardFn:
        GUARDS[fn.__name__] = fn
        GUARD_NEEDS[fn.__name__] = Needs(reads=frozenset(reads))
        return fn

    return register


@guard("signal")
def signal_ready(ctx: TickContext) -> bool:
    """A new confirmed candle gives a signal that passes the entry filter."""
    return ctx.signal() is not None


@guard()
def entry_expired(ctx: TickContext) -> bool:
    """Exchange time has reached the entry expiry (signal candle close + expiry_bars)."""
    return ctx.state.expiry_ts is not None and ctx.view.now_ms() >= ctx.state.expiry_ts


@guard()
def submit_armed(ctx: TickContext) -> bool:
    """The tick runs with an armed client (an explicit --submit)."""
    return ctx.armed


@guard("orders")
def submit_in_doubt(ctx: TickContext) -> bool:
    """A place request of ours may still apply: a rung is submitting (a crash around its POST) or
    unknown (an ambiguous answer), and a query by clOrdId has not settled it yet."""
    return any(r.state in ctx.orders.in_flight for r in ctx.state.rungs)


@guard("orders")
def risk_refused(ctx: TickContext) -> bool:
    """The hard limits refuse the rendered entries (fsm.risk): they are never sent."""
    return ctx.risk_refusal() is not None


@guard("orders")
def any_fill(ctx: TickContext) -> bool:
    """OKX shows some contracts filled on some rung."""
    return ctx.state.filled_sz > 0


@guard("orders")
def all_rungs_terminal(ctx: TickContext) -> bool:
    """Every rung has reached a terminal order state on exchange evidence."""
    return bool(ctx.state.rungs) and all(r.state in ctx.orders.terminal for r in ctx.state.rungs)


@guard("orders")
def cancel_retry_due(ctx: TickContext) -> bool:
    """Some rung is still not terminal `cancel_retry_seconds` after the last cancel request."""
    s = ctx.state
    if s.last_cancel_ts is None or all(r.state in ctx.orders.terminal for r in s.rungs):
        return False
    return ctx.view.now_ms() - s.last_cancel_ts >= ctx.params.cancel_retry_seconds * 1000


@guard("orders", "fills", "position")
def position_flat(ctx: TickContext) -> bool:
    """Nothing of ours is left: our own fills net to zero, or OKX holds nothing on our side any more
    (closed by hand); with no exit in flight and every fill OKX reports for our orders journaled."""
    s, p = ctx.state, ctx.params
    if ownership.exit_in_flight(s) or not ownership.fills_accounted(s):
        return False
    return s.own_open(p.side) == 0 or ownership.okx_held(p, s, ctx.view) == 0


@guard()
def exit_due(ctx: TickContext) -> bool:
    """The hold time is up (entry start + hold_bars, exchange time)."""
    return ctx.state.exit_due_ts is not None and ctx.view.now_ms() >= ctx.state.exit_due_ts


@guard()
def close_requested(ctx: TickContext) -> bool:
    """The operator asked for the close (a journaled operator command)."""
    req = ctx.state.close_request
    return req is not None and req.requested_by == "operator"


@guard("orders", "fills")
def close_sent(ctx: TickContext) -> bool:
    """An exit order is in flight: sent, and not yet shown ended by OKX with its fills journaled
    (never sent twice blindly; a new attempt only after the last one ended short)."""
    return ownership.exit_in_flight(ctx.state)


@guard("orders")
def strays_on_book(ctx: TickContext) -> bool:
    """OKX shows working an order of ours that its rung holds as ended (a rung never left on the book)."""
    return any(r.stray for r in ctx.state.rungs)


@guard("orders")
def stray_cancel_due(ctx: TickContext) -> bool:
    """A stray order of ours has not been asked to cancel within the retry interval."""
    now, retry_ms = ctx.view.now_ms(), ctx.params.cancel_retry_seconds * 1000
    return any(
        r.stray and (r.cancel_sent_ts is None or now - r.cancel_sent_ts >= retry_ms) for r in ctx.state.rungs
    )


@guard()
def paused(ctx: TickContext) -> bool:
    """The operator paused the machine: no new cycle starts (working orders are left as they are)."""
    return ctx.state.paused


@guard()
def flatten_requested(ctx: TickContext) -> bool:
    """The operator asked to flatten: cancel every working rung, then exit our own position."""
    return ctx.state.flatten_requested


@guard()
def closed_in_earlier_tick(ctx: TickContext) -> bool:
    """`closed` was entered in an earlier tick, so this tick may start the next cycle."""
    return not ctx.entered_closed_this_tick
