"""Applying exchange evidence to the rungs: the one path every OKX observation takes.

In a ladder state that tracks orders, for each tracked rung: find its order by clOrdId (pending
first, then order details, then orders-history), turn what OKX shows into one observation, and let
the order machine (machines/okx_order.yaml) classify it: a declared transition, an ignorable repeat,
or an anomaly that is journaled and shown but changes nothing. Fills and the position are observed
where the ladder state tracks them (the position also wherever our own fills hold some).

Invariants kept here:
- identity: an order is ours only when its clOrdId is the rung's (or the exit's);
- "does not exist" is believed only after the request's own expTime deadline has passed, in exchange
  time (OKX never applies a request later than that), never on a single early answer;
- an order that details and history no longer find has ended (OKX keeps a canceled order that never
  filled about 2 hours): it vanished, and its fills are what the fills show;
- fills are deduplicated by tradeId and owned by clOrdId, entries and exits alike; accFillSz never
  decreases; a terminal rung that OKX shows working is a stray of ours, journaled and cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from exchange import OkxFill, OkxOrder
from exchange.records.orders import OKX_CANCELED, OKX_CANCELED_STATES, POST_ONLY_CANCEL_SOURCE
from fsm.engine import ownership
from fsm.engine.context import TickContext
from fsm.engine.orders import Fill, OkxMirror, PositionMirror, Rung
from fsm.engine.runtime import MachineRuntime

Commit = Callable[[str, dict[str, Any]], None]

# The order machine's triggers for what OKX shows; the engine fires these and nothing else.
ORDER_TRIGGERS = (
    "submit", "ack_accepted", "ack_rejected", "ack_ambiguous", "ack_duplicate", "seen_live",
    "seen_partially_filled", "seen_filled", "seen_canceled", "seen_canceled_post_only", "not_found",
    "vanished", "cancel_sent", "cancel_rejected", "cancel_ambiguous",
)  # fmt: skip
# A request sent before expTime was recorded: "does not exist" counts this long after the send.
NOT_FOUND_GRACE_MS = 5_000
# Our exchange-time estimate and OKX's clock may differ a little: a deadline counts as passed this later.
DEADLINE_MARGIN_MS = 1_000
# How far before the first send the first fills read of a cycle begins.
FILLS_BEGIN_MARGIN_MS = 60_000


def deadline_passed(now_ms: int, sent_ms: int | None, exp_time_ms: int | None) -> bool:
    """Whether a place request sent at `sent_ms` with deadline `exp_time_ms` can no longer apply."""
    deadline = exp_time_ms if exp_time_ms is not None else (sent_ms or 0) + NOT_FOUND_GRACE_MS
    return now_ms > deadline + DEADLINE_MARGIN_MS


def observation_of(order: OkxOrder | None) -> str:
    """The order machine's trigger for what OKX shows."""
    if order is None:
        return "not_found"
    if order.state in OKX_CANCELED_STATES:
        if order.cancelSource == POST_ONLY_CANCEL_SOURCE and order.accFillSz == 0:
            return "seen_canceled_post_only"
        return "seen_canceled"
    return f"seen_{order.state}"


class Observed(Protocol):
    """A rung or a stop: what an order-like machine's observation changes, and how records name it."""

    state: str
    last_anomaly: str | None

    @property
    def identity(self) -> dict[str, str]: ...


def apply_order_observation(
    record: Observed, trigger: str, machine: MachineRuntime, commit: Commit, evidence: dict[str, Any]
) -> None:
    """Run one observation through the order (or stop) machine and journal what it did."""
    verdict, dest = machine.observe(record.state, trigger)
    if verdict == "anomaly":
        label = f"{trigger} in {record.state}"
        if record.last_anomaly != label:
            record.last_anomaly = label
            commit("anomaly", {**record.identity, "observation": trigger, "state": record.state, **evidence})
        return
    if verdict == "transition":
        before = record.state
        record.state = dest
        record.last_anomaly = None
        commit(
            "order",
            {**record.identity, "observation": trigger, "from": before, "to": record.state, **evidence},
        )


def mirror_order(identity: dict[str, str], m: OkxMirror, order: OkxOrder, commit: Commit) -> bool:
    """Copy OKX's fields onto a mirror; accFillSz never decreases. Returns whether anything changed."""
    if order.accFillSz < m.accFillSz:
        commit(
            "anomaly",
            {
                **identity,
                "observation": "accFillSz_decreased",
                "stored": format(m.accFillSz, "f"),
                "seen": format(order.accFillSz, "f"),
                "evidence": dict(order.raw),
            },
        )
        return False
    new = (
        order.ordId,
        order.state,
        order.accFillSz,
        order.avgPx,
        order.fillSz,
        order.tradeId,
        order.cancelSource,
        order.uTime,
    )
    old = (m.ordId, m.state, m.accFillSz, m.avgPx, m.fillSz, m.tradeId, m.cancelSource, m.uTime)
    if new == old:
        return False
    (m.ordId, m.state, m.accFillSz, m.avgPx, m.fillSz, m.tradeId, m.cancelSource, m.uTime) = new
    return True


def observe_rungs(ctx: TickContext, commit: Commit) -> None:
    """Bring every tracked rung up to what OKX shows, and notice ended rungs OKX shows working.

    Terminal rungs are not queried; once orders-pending is fetched (for the tracked or stray ones), a
    terminal rung that shows there is a stray of ours: journaled, and cancelled by the ladder's rows.
    """
    symbol, roles = ctx.params.symbol, ctx.orders
    tracked = [r for r in ctx.state.rungs if roles.tracked(r.state) or r.stray]
    if not tracked or not ctx.tracks("orders"):
        return
    pending_by_cl = {o.clOrdId: o for o in ctx.view.pending_orders(symbol).values() if o.clOrdId}
    now = ctx.view.now_ms()
    for rung in ctx.state.rungs:
        order = pending_by_cl.get(rung.clOrdId)
        if not roles.tracked(rung.state):
            if rung.state in roles.terminal:
                if rung.stray and (order is None or order.accFillSz > rung.accFillSz):
                    ctx.fills_due = True  # a stray of ours ended or filled: its fills are ours
                _note_stray(rung, order, commit)
            continue
        if order is None:  # it left pending (or is not there yet): its fills may have moved
            ctx.fills_due = True
            order = ctx.view.order(symbol, rung.clOrdId)
        if order is not None and order.clOrdId not in (None, rung.clOrdId):
            continue  # never adopt an order whose identity does not match
        trigger = observation_of(order)
        if trigger == "not_found":
            if rung.state in roles.in_flight:
                if not deadline_passed(now, rung.submit_ts, rung.exp_time_ms):
                    continue  # the request may still apply: not yet known, not "never placed"
            elif rung.ordId is not None:  # it existed: ended, and gone from order details
                order = ctx.view.order_in_history(symbol, rung.ordId)
                trigger = "vanished" if order is None else observation_of(order)
        evidence: dict[str, Any] = {"evidence": dict(order.raw) if order is not None else None}
        source = ctx.view.source_of(order)
        if source != "rest":  # evidence without a source came from REST
            evidence["source"] = source
        if order is not None and order.accFillSz != rung.accFillSz:
            ctx.fills_due = True
        changed = order is not None and mirror_order(rung.identity, rung.okx, order, commit)
        state_before = rung.state
        apply_order_observation(rung, trigger, ctx.order_machine, commit, evidence)
        if changed and rung.state == state_before:
            commit("order", {"clOrdId": rung.clOrdId, "observation": trigger, "update": True, **evidence})


def _note_stray(rung: Rung, order: OkxOrder | None, commit: Commit) -> None:
    """Journal when an ended rung's order shows working on OKX, and when it stops."""
    working = order is not None
    if working == rung.stray:
        return
    rung.stray = working
    if order is not None:
        commit(
            "anomaly",
            {
                "clOrdId": rung.clOrdId,
                "observation": "stray_working",
                "state": rung.state,
                "why": "OKX shows working an order whose rung has ended: it is ours and will be cancelled",
                "evidence": dict(order.raw),
            },
        )
    else:
        commit("order", {"clOrdId": rung.clOrdId, "observation": "stray_ended", "state": rung.state})


def _fill_record(f: OkxFill) -> Fill:
    return Fill(
        tradeId=f.tradeId,
        billId=f.billId,
        ordId=f.ordId,
        clOrdId=f.clOrdId,
        fillPx=f.fillPx,
        fillSz=f.fillSz,
        fee=f.fee,
        feeCcy=f.feeCcy,
        fillTime=f.fillTime,
        side=f.side,
    )


def observe_fills(ctx: TickContext, commit: Commit) -> None:
    """Record every new fill of our orders (entries, exits and a fired stop's child orders) once, by
    tradeId, and move the cursor.

    The read begins at the newest fill seen (or just before the cycle's first send), so it never
    reaches further back than needed, and reads fills-history when that is older than /trade/fills
    keeps (a long outage or a long hold).
    """
    s = ctx.state
    sent = [r.submit_ts for r in s.rungs if r.submit_ts is not None]
    if not ctx.tracks("fills") or (not sent and s.close_request is None):
        return  # nothing of this cycle has been sent: no fill can be ours
    due = ctx.view.full or ctx.fills_due or ownership.exit_in_flight(s) or not ownership.fills_accounted(s)
    if not due:
        return  # orders-pending showed no fill and nothing is owed: a quiet tick asks no fills
    begin = s.fills_cursor_ts
    if begin is None and sent:
        begin = min(sent) - FILLS_BEGIN_MARGIN_MS
    fills = ctx.view.fills_since(ctx.params.symbol, s.fills_cursor, begin)
    ours_cl = s.own_client_order_ids()
    ours_ord = {r.ordId for r in s.rungs if r.ordId}
    if s.close_request is not None and s.close_request.okx.ordId:
        ours_ord.add(s.close_request.okx.ordId)
    stop_children = {child: stop.algoClOrdId for stop in s.stops for child in stop.okx.ordIdList}
    known = s.known_trade_ids()
    for f in sorted(fills, key=lambda f: int(f.billId)):
        mine = f.clOrdId in ours_cl or f.ordId in ours_ord or f.ordId in stop_children
        if mine and f.tradeId not in known:
            s.fills.append(_fill_record(f))
            known.add(f.tradeId)
            record = {"clOrdId": f.clOrdId, "tradeId": f.tradeId, "evidence": dict(f.raw)}
            if f.ordId in stop_children:  # a fired stop's child: its fills carry no algoId, only its ordId
                record["algoClOrdId"] = stop_children[f.ordId]
            commit("fill", record)
    if fills:
        newest = max(fills, key=lambda f: int(f.billId))
        if s.fills_cursor is None or int(newest.billId) > int(s.fills_cursor):
            s.fills_cursor, s.fills_cursor_ts = newest.billId, newest.ts
    _check_fill_sums(ctx, commit)


def _check_fill_sums(ctx: TickContext, commit: Commit) -> None:
    """The fills of an order never sum past its accFillSz (fills may lag; never lead)."""
    for rung in ctx.state.rungs:
        total = ownership.filled_by(ctx.state, rung.clOrdId)
        label = f"fills {format(total, 'f')} exceed accFillSz {format(rung.accFillSz, 'f')}"
        if total > rung.accFillSz and rung.last_anomaly != label:
            rung.last_anomaly = label
            commit(
                "anomaly",
                {
                    "clOrdId": rung.clOrdId,
                    "observation": "fills_exceed_accFillSz",
                    "fills": format(total, "f"),
                    "accFillSz": format(rung.accFillSz, "f"),
                },
            )


def observe_position(ctx: TickContext, commit: Commit) -> None:
    """Mirror OKX's position on our side while it matters; journal when its size changes, and once
    when OKX holds less than our own fills (someone closed part of it by hand)."""
    s, p = ctx.state, ctx.params
    own = s.own_open(p.side)
    if not ctx.tracks("position") and own == 0:  # what our own fills hold is followed everywhere
        return
    side = ownership.okx_pos_side(p, s)
    pos = ctx.view.position(p.symbol, side)
    size = Decimal("0") if pos is None else pos.pos
    previous = None if s.position is None else s.position.pos
    s.position = PositionMirror(
        instId=p.symbol,
        posSide=side,
        pos=size,
        avgPx=None if pos is None else pos.avgPx,
        upl=None if pos is None else pos.upl,
        uTime=None if pos is None else pos.uTime,
        observed_ts=ctx.view.now_ms(),
    )
    if previous != size:
        commit(
            "observe", {"position": s.position.to_dict(), "evidence": None if pos is None else dict(pos.raw)}
        )
    held = ownership.okx_held(p, s, ctx.view)
    shortfall = f"okx holds {format(held, 'f')} of our {format(own, 'f')}" if held < own else None
    if shortfall != s.position_anomaly:
        s.position_anomaly = shortfall
        if shortfall is not None:
            why = "someone closed part of our position by hand: the exit shrinks to what OKX holds"
            commit(
                "anomaly",
                {
                    "observation": "position_short",
                    "own": format(own, "f"),
                    "okx": format(held, "f"),
                    "why": why,
                },
            )


def observe_close(ctx: TickContext, commit: Commit) -> None:
    """Follow the cycle's exit order on OKX until it ends, once per tick, before rows fire.

    Refused with an explicit code: nothing was applied, so it is no longer "sent" and the exit row may
    send it again. Otherwise its clOrdId decides: found, its fields are mirrored (accFillSz never
    decreases) until it ends; unknown to OKX past its expTime deadline, it never landed and may be
    sent again; once known but gone from details and history, it ended.
    """
    req = ctx.state.close_request
    if req is None or req.sent_ts is None or req.terminal_on_okx or not ctx.tracks("orders"):
        return
    symbol = ctx.params.symbol
    if req.outcome is not None and req.outcome.startswith("rejected:"):
        req.sent_ts = None  # the refusal journaled when it was sent: nothing was applied
        commit("order", {"clOrdId": req.clOrdId, "observation": req.outcome, "close": req.to_dict()})
        return
    pending = {o.clOrdId: o for o in ctx.view.pending_orders(symbol).values() if o.clOrdId}
    order = pending.get(req.clOrdId) or ctx.view.order(symbol, req.clOrdId)
    if order is None and req.okx.ordId is not None:
        order = ctx.view.order_in_history(symbol, req.okx.ordId)
        if order is None:  # it existed and is gone everywhere: it ended without more fills
            req.okx.state = OKX_CANCELED
            commit("order", {"clOrdId": req.clOrdId, "observation": "vanished", "close": req.to_dict()})
            return
    if order is None:
        if not deadline_passed(ctx.view.now_ms(), req.sent_ts, req.exp_time_ms):
            return
        req.sent_ts, req.outcome = None, None  # past its deadline and unknown: it never landed
        commit("order", {"clOrdId": req.clOrdId, "observation": "not_found", "close": req.to_dict()})
        return
    if order.clOrdId not in (None, req.clOrdId):
        return
    if mirror_order({"clOrdId": req.clOrdId}, req.okx, order, commit) or req.outcome != "accepted":
        req.outcome = "accepted"
        commit(
            "order",
            {
                "clOrdId": req.clOrdId,
                "observation": observation_of(order),
                "close": req.to_dict(),
                "evidence": dict(order.raw),
            },
        )
