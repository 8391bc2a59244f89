"""The ladder's guards: small pure predicates over the tick's context.

A guard never POSTs and never changes the state; the only memo it keeps is the tick's signal, so a
preview and a fire in the same tick agree. Each is registered with what it reads (`@guard("orders")`):
`check` refuses a row whose source state does not track that.
"""

from __future__ import annotations

from collections.abc import Callable

from fsm.engine import ownership, stops
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
def cooling_down(ctx: TickContext) -> bool:
    """Losing cycles in a row started a cooldown (the limits' cooldown_after_losses) that exchange time
    has not reached the end of: no new cycle starts."""
    until = ctx.state.cooldown_until_ts
    return until is not None and ctx.view.now_ms() < until


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


@guard()
def exiting(ctx: TickContext) -> bool:
    """The machine is on its way out: the hold time is up, or the operator asked to close or flatten."""
    return exit_due(ctx) or close_requested(ctx) or flatten_requested(ctx)


@guard("fills", "position", "stop")
def stop_missing(ctx: TickContext) -> bool:
    """The machine owns size and no stop of its own works or is on its way: none placed this cycle yet,
    rendered and never sent, sent and not shown by OKX (sent again), ended (cancelled by hand, or for a
    replacement), fired with size left over, or refused for a reason a new placement may not meet (once
    the retry interval has passed)."""
    roles, stop = ctx.stops, ctx.state.stop
    if stops.target(ctx.params, ctx.state, ctx.view) is None:
        return False
    if stop is None or stop.state in roles.unsent or stop.state in roles.unseen or stop.state in roles.ended:
        return True
    if stop.state in roles.fired:
        return stops.children_settled(ctx.state, stop)
    if stop.state in roles.refused and not stops.refusal_is_final(stop):
        retry_ms = ctx.params.cancel_retry_seconds * 1000
        return ctx.view.now_ms() - (stop.submit_ts or 0) >= retry_ms
    return False


@guard("fills", "position", "stop")
def stop_resize_due(ctx: TickContext) -> bool:
    """The working stop is not what the machine owns calls for (its size, or its trigger for a new
    average entry), or OKX still shows it otherwise than last asked a retry interval later; or a stray
    stop of ours works on OKX."""
    s, roles = ctx.state, ctx.stops
    now, retry_ms = ctx.view.now_ms(), ctx.params.cancel_retry_seconds * 1000
    if any(stop.stray for stop in stops.cancel_targets(s, roles, now, retry_ms)):
        return True
    stop = s.stop
    if stop is None or stop.state not in roles.working:
        return False
    want = stops.target(ctx.params, s, ctx.view)
    return want is None or stops.amend_due(stop, want, now, retry_ms)


@guard("stop")
def stop_working(ctx: TickContext) -> bool:
    """A stop of this cycle may still act on OKX: on its way, live, cancel sent, a stray of ours, or
    fired with a child order not yet ended and journaled (never two reduce-only exits for one size)."""
    return any(stops.acting(ctx.state, ctx.stops, stop) for stop in ctx.state.stops)


@guard("stop")
def stop_cancel_due(ctx: TickContext) -> bool:
    """A stop of ours may be cancelled now: live, a stray, or its cancel still unanswered by OKX's state
    past the retry interval."""
    now, retry_ms = ctx.view.now_ms(), ctx.params.cancel_retry_seconds * 1000
    return bool(stops.cancel_targets(ctx.state, ctx.stops, now, retry_ms))


@guard("fills", "position", "stop")
def stop_refused(ctx: TickContext) -> bool:
    """The machine owns size its stop cannot protect: OKX refused the stop for its price (the market is
    through it), or it fired and its child order failed; `on_refused` says what follows."""
    stop = ctx.state.stop
    if stop is None or stop.state not in ctx.stops.refused or not stops.refusal_is_final(stop):
        return False
    return stops.target(ctx.params, ctx.state, ctx.view) is not None
