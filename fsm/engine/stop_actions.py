"""The stop's actions: place, resize and cancel the cycle's protective stop, an OKX conditional algo
order (market stop-loss, reduce-only, the machine's own size, never closeFraction).

Like every action: the request is journaled and fsynced before the POST (write-ahead), and its outcome
is one of three: refused with an explicit code, accepted, or ambiguous (never taken as refused or not
found: the stop stays in flight and a query by algoClOrdId resolves it). 51065 on a place means a stop
with that algoClOrdId exists: it is adopted. A resize amends the working stop (newSz, and the trigger
for the new average entry); refused for any reason but 51416 (it fired meanwhile), it is cancelled and
replaced by the next placement. Each action is idempotent over the state it leaves.
"""

from __future__ import annotations

from exchange import OkxAmbiguousOutcome, OkxApiError
from fsm.engine import stops
from fsm.engine.env import ActionEnv, error_evidence, trader_of
from fsm.engine.observe import apply_order_observation
from fsm.engine.observe_stop import refresh_stop
from fsm.engine.orders import StopOrder
from fsm.engine.stops import StopTarget

CANCEL_ALGOS_MAX = 10  # algos OKX cancels in one cancel-algos request

# What the write-ahead records of a stop say they are about (`what`): read back by control.Outcome.
STOP = "stop"  # a place ("submit") or a cancel ("cancel") of the stop
STOP_AMEND = "stop_amend"  # an amend-algos of the stop


def place_stop(env: ActionEnv) -> None:
    """Place the stop the machine's own fills call for: the one rendered and never sent, the one sent
    that OKX does not show (the same algoClOrdId again: OKX refuses a second live one, 51065), else the
    next placement of the cycle (its own algoClOrdId)."""
    ctx, p, s = env.ctx, env.ctx.params, env.ctx.state
    trader = trader_of(env)
    want = stops.target(p, s, ctx.view)
    stop = s.stop
    if want is None or p.stop is None:
        return
    again = stop is not None and stop.state in ctx.stops.unseen
    if stop is not None and ctx.stops.tracked(stop.state) and not again:
        return  # placed already (a crash lost the transition record): never twice
    if stop is None or not (again or stop.state in ctx.stops.unsent):
        stop = stops.next_stop(p, s, ctx.stops.initial, want)
        s.stops.append(stop)
    stop.sz, stop.slTriggerPx, stop.tpTriggerPx = want
    stop.reject, stop.cancel_sent_ts, stop.amend_ts = None, None, None
    stop.payload = stops.payload(p, s, ctx.view, stop)
    apply_order_observation(stop, "resend" if again else "submit", ctx.stop_machine, lambda *_: None, {})
    stop.submit_ts = ctx.view.send_time_ms()
    env.commit("submit", {"what": STOP, "stop": stop.to_dict()})
    env.flush()  # write-ahead: durable before the POST
    try:
        ack = trader.place_algo_order(stop.payload)
    except OkxAmbiguousOutcome as exc:
        apply_order_observation(stop, "ack_ambiguous", ctx.stop_machine, env.commit, error_evidence(exc))
        return
    except OkxApiError as exc:
        code = exc.s_code or exc.code
        if code == stops.ALGO_EXISTS:  # a stop with this algoClOrdId exists: ours, a query adopts it
            apply_order_observation(stop, "ack_duplicate", ctx.stop_machine, env.commit, error_evidence(exc))
            return
        stop.reject = {"sCode": code, "sMsg": exc.s_msg or exc.msg}
        apply_order_observation(stop, "ack_rejected", ctx.stop_machine, env.commit, error_evidence(exc))
        return
    stop.okx.algoId = ack.algoId
    apply_order_observation(stop, "ack_accepted", ctx.stop_machine, env.commit, {"ack": dict(ack.raw)})


def resize_stop(env: ActionEnv) -> None:
    """Make OKX's stop what the machine owns calls for: amend the working stop's size and trigger, or
    cancel it when nothing is left to protect; cancel any stray stop of ours."""
    ctx, s = env.ctx, env.ctx.state
    now, retry_ms = ctx.view.now_ms(), ctx.params.cancel_retry_seconds * 1000
    strays = [stop for stop in stops.cancel_targets(s, ctx.stops, now, retry_ms) if stop.stray]
    stop, want = s.stop, stops.target(ctx.params, s, ctx.view)
    working = stop is not None and stop.state in ctx.stops.working
    if stop is not None and working and want is None:
        cancel_stops(env, [*strays, stop], "nothing of ours left to protect")
        return
    if strays:
        cancel_stops(env, strays, "a stray stop of ours works on OKX")
    if stop is not None and working and want is not None and stops.amend_due(stop, want, now, retry_ms):
        _amend(env, stop, want)


def _amend(env: ActionEnv, stop: StopOrder, want: StopTarget) -> None:
    """amend-algos: newSz and the new triggers; refused (but for 51416), cancel it to place it anew."""
    ctx, p = env.ctx, env.ctx.params
    trader = trader_of(env)
    before = stops.asked(stop)
    stop.sz, stop.slTriggerPx, stop.tpTriggerPx = want
    stop.amend_ts = ctx.view.send_time_ms()
    env.commit(
        "submit",
        {"what": STOP_AMEND, **stop.identity, "from": _target_dict(before), "to": _target_dict(want)},
    )
    env.flush()  # write-ahead: durable before the POST
    try:
        ack = trader.amend_algo_order(
            p.symbol,
            algo_id=stop.okx.algoId,
            algo_client_order_id=stop.algoClOrdId,
            new_sz=want.sz,
            new_sl_trigger_px=want.slTriggerPx,
            new_tp_trigger_px=want.tpTriggerPx,
        )
    except OkxAmbiguousOutcome as exc:  # asked: the mirror tells next ticks whether it applied
        env.commit(
            "ack", {"what": "stop_amend", **stop.identity, "outcome": "ambiguous", **error_evidence(exc)}
        )
        return
    except OkxApiError as exc:
        code = exc.s_code or exc.code
        env.commit(
            "ack",
            {"what": "stop_amend", **stop.identity, "outcome": f"rejected:{code}", **error_evidence(exc)},
        )
        if code != stops.ALGO_TRIGGERED:  # 51416: it fired; the next observation shows it
            cancel_stops(env, [stop], f"the amend was refused ({code}): cancel and replace")
        return
    env.commit("ack", {"what": "stop_amend", **stop.identity, "outcome": "accepted", "ack": dict(ack.raw)})


def _target_dict(t: StopTarget) -> dict[str, str | None]:
    return {
        "sz": format(t.sz, "f"),
        "slTriggerPx": format(t.slTriggerPx, "f"),
        "tpTriggerPx": None if t.tpTriggerPx is None else format(t.tpTriggerPx, "f"),
    }


def cancel_stop(env: ActionEnv) -> None:
    """Cancel every stop of ours that works on OKX (before our own exit, or after the cycle)."""
    ctx = env.ctx
    now, retry_ms = ctx.view.now_ms(), ctx.params.cancel_retry_seconds * 1000
    targets = stops.cancel_targets(ctx.state, ctx.stops, now, retry_ms)
    if targets:
        cancel_stops(env, targets, "a stop ends before the cycle's own exit, and with the cycle")


def cancel_stops(env: ActionEnv, targets: list[StopOrder], why: str) -> None:
    """Cancel these stops in one cancel-algos request (at most 10; the rest on the next due tick):
    journaled first, each outcome after. An accepted cancel changes nothing by itself: only OKX's algo
    state ends a stop, read again at once; a refusal (51416 fired, 51400 gone) is recorded and the next
    observation says which."""
    ctx, p = env.ctx, env.ctx.params
    trader = trader_of(env)
    targets = targets[:CANCEL_ALGOS_MAX]
    now = ctx.view.now_ms()
    for stop in targets:
        if stop.state in ctx.stops.cancellable:
            apply_order_observation(stop, "cancel_sent", ctx.stop_machine, lambda *_: None, {})
        stop.cancel_sent_ts = now
    env.commit("cancel", {"what": STOP, "algoClOrdIds": [stop.algoClOrdId for stop in targets], "why": why})
    env.flush()  # write-ahead: durable before the POST
    try:
        acks = trader.cancel_algo_orders(p.symbol, [(stop.okx.algoId, stop.algoClOrdId) for stop in targets])
    except OkxAmbiguousOutcome as exc:
        for stop in targets:
            apply_order_observation(
                stop, "cancel_ambiguous", ctx.stop_machine, env.commit, error_evidence(exc)
            )
        return
    except OkxApiError as exc:
        if not exc.items:
            env.commit("ack", {"what": "stop_cancel", **error_evidence(exc)})
            return
        acks = list(exc.items)
    by_id = {a.algoClOrdId: a for a in acks if a.algoClOrdId} | {a.algoId: a for a in acks if a.algoId}
    accepted = []
    for stop in targets:
        ack = by_id.get(stop.algoClOrdId) or (by_id.get(stop.okx.algoId) if stop.okx.algoId else None)
        if ack is not None and not ack.ok:
            evidence = {"ack": dict(ack.raw)}
            apply_order_observation(stop, "cancel_rejected", ctx.stop_machine, env.commit, evidence)
        elif ack is not None:
            accepted.append(stop)
    env.commit("ack", {"what": "stop_cancel", "acks": [dict(a.raw) for a in acks]})
    for stop in accepted:  # accepted is not done: OKX's algo state says when it ended
        refresh_stop(ctx, stop, env.commit)
