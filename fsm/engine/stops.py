"""The protective stop as the params and the machine's own fills make it: its size, its trigger prices,
its deterministic algoClOrdId, its request, and what OKX's answers about it mean. Functions of
(params, state, the tick's view), which they only read.

The size is what the exit would sell: the machine's own open size, capped by what OKX still holds on
its side (a hand trade that shrank the position shrinks the stop). The trigger is `loss` beyond the
own average entry (below it for a long, above for a short), rounded to tickSz away from the entry, so
never tighter than declared; a take-profit the other way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from exchange import OkxStopPriceRefused, render_stop_payload
from exchange.errors import CODE_CLASSES
from exchange.payloads import check_client_order_id
from exchange.records.orders import OKX_ENDED_STATES
from exchange.sizing import ceil_to_step, floor_to_step
from fsm.engine import ownership
from fsm.engine.orders import StopOrder
from fsm.engine.pnl import cycle_summary
from fsm.engine.roles import StopRoles
from fsm.engine.state import LadderState
from fsm.engine.view import ExchangeView
from fsm.spec.ladder import LadderParams

ALGO_EXISTS = "51065"  # a place for an algoClOrdId that exists: an earlier send landed
ALGO_TRIGGERED = "51416"  # an amend or cancel of an algo that has fired already
ALGO_ORDER_FAILED = "order_failed"  # OKX's algo state: it fired and its child order was refused


class StopTarget(NamedTuple):
    """What the stop should be now: its size and trigger prices."""

    sz: Decimal
    slTriggerPx: Decimal
    tpTriggerPx: Decimal | None


def stop_client_order_id(prefix: str, cycle_ts: int, n: int) -> str:
    """`<prefix><cycle ts>s<n>`: the n-th placement of the cycle's stop, the same on every retry."""
    return check_client_order_id(f"{prefix}{cycle_ts}s{n}")


def target(params: LadderParams, state: LadderState, view: ExchangeView) -> StopTarget | None:
    """The stop the machine's own fills call for now (None: no stop declared, or nothing to protect)."""
    stop = params.stop
    if stop is None:
        return None
    entry = cycle_summary(state, params.side).avg_entry
    size = ownership.exit_size(params, state, view)
    if entry is None or size <= 0:
        return None
    tick = view.instrument(params.symbol).tickSz
    long = params.side == "buy"
    sl = floor_to_step(entry * (1 - stop.loss), tick) if long else ceil_to_step(entry * (1 + stop.loss), tick)
    tp: Decimal | None = None
    if params.take_profit is not None:
        away = params.take_profit
        tp = ceil_to_step(entry * (1 + away), tick) if long else floor_to_step(entry * (1 - away), tick)
    return StopTarget(size, sl, tp)


def next_stop(params: LadderParams, state: LadderState, initial: str, want: StopTarget) -> StopOrder:
    """The cycle's next placement of its stop (not yet in the state): its number, deterministic
    algoClOrdId, the stop machine's initial state, and what it is to protect."""
    assert params.stop is not None
    n = len(state.stops)
    return StopOrder(
        n=n,
        algoClOrdId=stop_client_order_id(params.client_order_id_prefix, state.last_signal_candle_ts or 0, n),
        state=initial,
        sz=want.sz,
        slTriggerPx=want.slTriggerPx,
        tpTriggerPx=want.tpTriggerPx,
        trigger_px_type=params.stop.trigger_px_type,
    )


def payload(params: LadderParams, state: LadderState, view: ExchangeView, stop: StopOrder) -> dict[str, Any]:
    """The body of the place request for this stop (POST /trade/order-algo): a reduce-only conditional
    of its size and trigger(s) at market, the exit's side and the machine's posSide (`net` in net mode)."""
    return render_stop_payload(
        instrument=view.instrument(params.symbol),
        side=ownership.exit_side(params),
        sz=stop.sz,
        sl_trigger_px=stop.slTriggerPx,
        algo_client_order_id=stop.algoClOrdId,
        sl_trigger_px_type=stop.trigger_px_type,
        tp_trigger_px=stop.tpTriggerPx,
        tp_trigger_px_type=stop.trigger_px_type,
        pos_side=ownership.okx_pos_side(params, state),
        td_mode=params.td_mode,
    )


def asked(stop: StopOrder) -> StopTarget:
    """What OKX was last asked to make this stop."""
    return StopTarget(stop.sz, stop.slTriggerPx, stop.tpTriggerPx)


def shown(stop: StopOrder) -> StopTarget | None:
    """What OKX last showed of this stop (None before it showed it)."""
    okx = stop.okx
    if okx.sz is None or okx.slTriggerPx is None:
        return None
    return StopTarget(okx.sz, okx.slTriggerPx, okx.tpTriggerPx)


def amend_due(stop: StopOrder, want: StopTarget, now_ms: int, retry_ms: int) -> bool:
    """The working stop must be amended to `want`: it was last asked otherwise; or OKX, asked since the
    ask, shows it smaller than asked (a lost or late amend leaves size unprotected: amended again at
    once, the same values, which is idempotent); or OKX still shows it otherwise than asked a retry
    interval after the ask."""
    if want != asked(stop):
        return True
    seen = shown(stop)
    if seen is None or seen == want or stop.asked_ts is None:
        return False
    observed_since = stop.asked_ts < now_ms  # the tick's reads came after the ask (an earlier tick's)
    return (observed_since and seen.sz < want.sz) or now_ms - stop.asked_ts >= retry_ms


def refusal_is_final(stop: StopOrder) -> bool:
    """A refusal that a new placement would meet again: the market is already through the trigger
    (OKX's price-rule codes: 51046-51053, 51277-51280 against the last price, 51300-51308 against the
    mark or index), or it fired and its child order could not be placed. Anything else (a rate limit,
    a place that never landed) is placed again."""
    code = None if stop.reject is None else stop.reject.get("sCode")
    price_refused = code is not None and CODE_CLASSES.get(code) is OkxStopPriceRefused
    return price_refused or stop.okx.state == ALGO_ORDER_FAILED


def children_settled(state: LadderState, stop: StopOrder) -> bool:
    """A fired stop is done: OKX named its child orders, each has ended, and their fills are journaled."""
    known = {child.ordId: child for child in stop.children}
    if not stop.okx.ordIdList:
        return False
    for ord_id in stop.okx.ordIdList:
        child = known.get(ord_id)
        if child is None or child.state not in OKX_ENDED_STATES:
            return False
        if ownership.filled_by_order(state, ord_id) < child.accFillSz:
            return False
    return True


def acting(state: LadderState, roles: StopRoles, stop: StopOrder) -> bool:
    """Whether this stop may still act on OKX: on its way, live, cancel sent, a stray of ours, or fired
    with a child order not yet ended and journaled."""
    if stop.stray or roles.tracked(stop.state):
        return True
    return stop.state in roles.fired and not children_settled(state, stop)


def cancel_targets(state: LadderState, roles: StopRoles, now_ms: int, retry_ms: int) -> list[StopOrder]:
    """The stops of ours a cancel may be aimed at now: live, a stray, or cancel sent and still not ended
    past the retry interval; none whose cancel went out within it."""
    return [
        stop
        for stop in state.stops
        if (stop.state in roles.cancellable or stop.state in roles.cancel_requested or stop.stray)
        and (stop.cancel_sent_ts is None or now_ms - stop.cancel_sent_ts >= retry_ms)
    ]
