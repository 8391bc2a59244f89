"""Applying exchange evidence to the cycle's stops: the one path every observation of an algo takes.

Where the ladder state tracks `stop` (and wherever a stop of ours may still act on OKX), each stop that
may exist there is found by its algoClOrdId (the pending algos first, one request for every machine,
then order-algo), what OKX shows becomes one observation, and the stop machine (machines/okx_stop.yaml)
classifies it: a declared transition, an ignorable repeat, or an anomaly journaled and shown.

- identity: an algo is ours only when its algoClOrdId is the stop's;
- "does not exist" for a stop in flight: within NOT_FOUND_GRACE_MS (plus the margin) after its send it is
  `not_found_yet` (the place may still apply), past it `not_found` (algo places carry no expTime on OKX,
  so a fixed grace stands in for the deadline); the stop machine says what each means (mostly: send the
  same algoClOrdId again at once); a stop that lands after its placement was given up is found working
  while its state holds it ended, a stray, and cancelled;
- a stop OKX shows canceled while it was working (not after our cancel) was cancelled by hand: an
  anomaly is journaled, and the ladder places it again;
- a stop that fired names its child orders (ordIdList): each is followed by ordId until it ends, and
  observe_fills journals their fills (which carry no algoId) as the cycle's exit;
- a quiet tick (not a full reconcile, the stop working, the position unmoved, no push showing it ended)
  asks nothing of the algos: they come with the same reconcile budget as everything else. With push
  (`run --push`), a pushed end of the stop (canceled by hand, fired, failed) makes the next tick observe
  it here, through the same path, taking the ended record from the push (`"source": "push"`).
"""

from __future__ import annotations

from typing import Any

from exchange import OkxAlgoOrder
from exchange.records.orders import OKX_ENDED_STATES
from fsm.engine import ownership
from fsm.engine.context import TickContext
from fsm.engine.observe import Commit, apply_order_observation, deadline_passed, mirror_order, observation_of
from fsm.engine.orders import AlgoMirror, OkxMirror, StopOrder
from fsm.engine.ownership import ZERO
from fsm.engine.stops import acting

# The stop machine's triggers for what OKX shows; the engine fires these and nothing else.
STOP_TRIGGERS = (
    "submit", "resend", "ack_accepted", "ack_rejected", "ack_ambiguous", "ack_duplicate", "seen_live",
    "seen_effective", "seen_canceled", "seen_order_failed", "not_found", "not_found_yet", "vanished",
    "cancel_sent", "cancel_rejected", "cancel_ambiguous",
)  # fmt: skip
# OKX's algo states beyond live, effective, canceled and order_failed (each `seen_<state>`), as the
# stop machine takes them: a paused stop still works, a partial trigger or failure counts as one.
_SEEN_AS = {
    "pause": "seen_live",
    "partially_effective": "seen_effective",
    "partially_failed": "seen_order_failed",
}


def algo_observation(algo: OkxAlgoOrder | None) -> str:
    """The stop machine's trigger for what OKX shows."""
    return "not_found" if algo is None else _SEEN_AS.get(algo.state, f"seen_{algo.state}")


def observe_stops(ctx: TickContext, commit: Commit) -> None:
    """Bring every stop of the cycle up to what OKX shows, follow a fired stop's child orders, and notice
    an ended stop that OKX shows working (a stray of ours)."""
    s, roles = ctx.state, ctx.stops
    if not s.stops or not (ctx.tracks("stop") or any(acting(s, roles, stop) for stop in s.stops)):
        return
    if _quiet(ctx):
        return
    pending = ctx.view.pending_algos(ctx.params.symbol)
    for stop in s.stops:
        algo = pending.get(stop.algoClOrdId)
        if roles.tracked(stop.state):
            _observe_algo(ctx, stop, algo, commit)
        elif stop.state in roles.terminal:
            _note_stray(stop, algo, commit)
        if stop.state in roles.fired:
            _observe_children(ctx, stop, commit)


def _quiet(ctx: TickContext) -> bool:
    """Nothing can have moved the stops since the last tick, so a tick that is not a full reconcile
    asks OKX nothing about them: the current stop works, was last asked a retry interval ago, no push
    shows it ended, no other stop of ours may act, no fill is owed, and OKX's position on our side is as
    last seen (a stop that fired moved it). Without push, a hand cancel is noticed at the next full
    reconcile; with push, at the tick its push wakes."""
    s, roles, view = ctx.state, ctx.stops, ctx.view
    stop = s.stop
    if view.full or ctx.fills_due or stop is None or stop.state not in roles.working:
        return False
    pushed = view.pushed_algo(stop.algoClOrdId)
    if pushed is not None and not pushed.pending:
        return False
    if any(other is not stop and acting(s, roles, other) for other in s.stops):
        return False
    if stop.asked_ts is None or view.now_ms() - stop.asked_ts < ctx.params.cancel_retry_seconds * 1000:
        return False
    pos = view.position(ctx.params.symbol, ownership.okx_pos_side(ctx.params, s))
    return s.position is not None and s.position.pos == (ZERO if pos is None else pos.pos)


def refresh_stop(ctx: TickContext, stop: StopOrder, commit: Commit) -> None:
    """Ask OKX again for one stop after a request of ours changed it (a cancel it accepted): OKX mostly
    shows it ended at once, and the exit that waits for that goes out in the same tick."""
    ctx.view.forget("order-algo", stop.okx.algoId, stop.algoClOrdId)
    _observe_algo(ctx, stop, None, commit)


def _observe_algo(ctx: TickContext, stop: StopOrder, algo: OkxAlgoOrder | None, commit: Commit) -> None:
    roles = ctx.stops
    if algo is None:
        algo = ctx.view.algo(stop.okx.algoId, stop.algoClOrdId)
    if algo is not None and algo.algoClOrdId not in (None, stop.algoClOrdId):
        return  # never adopt an algo whose identity does not match
    trigger = algo_observation(algo)
    if trigger == "not_found":
        if stop.state in roles.in_flight or stop.state in roles.unseen:  # sent: it may still apply
            if not deadline_passed(ctx.view.now_ms(), stop.submit_ts, None):
                trigger = "not_found_yet"  # the place may still apply: not "never placed"
        elif stop.okx.algoId is not None:  # it existed: ended, and OKX no longer finds it
            trigger = "vanished"
    evidence: dict[str, Any] = {"evidence": None if algo is None else dict(algo.raw)}
    source = ctx.view.source_of(algo)
    if source != "rest":  # evidence without a source came from REST
        evidence["source"] = source
    changed = algo is not None and _mirror_algo(stop, algo)
    before = stop.state
    if trigger == "seen_canceled" and before in roles.cancellable:
        commit(
            "anomaly",
            {
                **stop.identity,
                "observation": "stop_canceled_by_hand",
                "state": before,
                "why": "OKX shows our working stop canceled without our cancel: it is placed again",
                **evidence,
            },
        )
    apply_order_observation(stop, trigger, ctx.stop_machine, commit, evidence)
    if stop.state in roles.fired and before not in roles.fired:
        ctx.fills_due = True  # it fired: its child order's fills are ours
    if changed and stop.state == before:
        commit("order", {**stop.identity, "observation": trigger, "update": True, **evidence})


def _mirror_algo(stop: StopOrder, algo: OkxAlgoOrder) -> bool:
    """Take OKX's fields as the stop's mirror; returns whether anything changed."""
    new = AlgoMirror(
        algoId=algo.algoId,
        state=algo.state,
        sz=algo.sz,
        slTriggerPx=algo.slTriggerPx,
        slTriggerPxType=algo.slTriggerPxType,
        tpTriggerPx=algo.tpTriggerPx,
        ordIdList=list(algo.ordIdList),
        actualSz=algo.actualSz,
        actualPx=algo.actualPx,
        actualSide=algo.actualSide,
        triggerTime=algo.triggerTime,
        failCode=algo.failCode,
        uTime=algo.uTime,
    )
    if new == stop.okx:
        return False
    stop.okx = new
    return True


def _note_stray(stop: StopOrder, algo: OkxAlgoOrder | None, commit: Commit) -> None:
    """Journal when an ended stop works on OKX (a place that landed after its grace), and when it stops."""
    working = algo is not None
    if working == stop.stray:
        return
    stop.stray = working
    if algo is not None:
        if not stop.okx.algoId:
            stop.okx.algoId = algo.algoId  # what a cancel of the stray names
        commit(
            "anomaly",
            {
                **stop.identity,
                "observation": "stray_working",
                "state": stop.state,
                "why": "OKX shows working a stop this state holds as ended: it is ours and will be cancelled",
                "evidence": dict(algo.raw),
            },
        )
    else:
        commit("order", {**stop.identity, "observation": "stray_ended", "state": stop.state})


def _observe_children(ctx: TickContext, stop: StopOrder, commit: Commit) -> None:
    """Follow each child order of a fired stop by ordId until it ends (its fills are ours, by ordId)."""
    for ord_id in stop.okx.ordIdList:
        child = next((c for c in stop.children if c.ordId == ord_id), None)
        if child is not None and child.state in OKX_ENDED_STATES:
            continue
        order = ctx.view.order_by_id(ctx.params.symbol, ord_id)
        if order is None:
            continue  # not findable yet: asked again next tick
        if child is None:
            child = OkxMirror(ordId=ord_id)
            stop.children.append(child)
        if mirror_order(stop.identity, child, order, commit):
            ctx.fills_due = True
            commit(
                "order",
                {
                    **stop.identity,
                    "child": ord_id,
                    "observation": observation_of(order),
                    "evidence": dict(order.raw),
                },
            )
