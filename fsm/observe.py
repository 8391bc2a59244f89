"""Applying exchange evidence to the rungs: the one path every OKX observation takes.

For each tracked rung: find its order by clOrdId (pending first, then order details), turn what OKX
shows into one observation, and let the order machine (machines/okx_order.yaml) classify it:
a declared transition, an ignorable repeat, or an anomaly that is journaled and shown but changes
nothing. Fills are deduplicated by tradeId; accFillSz never decreases.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from exchange import OkxFill, OkxOrder
from fsm.guards import TickContext
from fsm.model import Fill, PositionMirror, Rung

Commit = Callable[[str, dict[str, Any]], None]

# Rung states whose order may exist on OKX and is not final yet.
TRACKED_STATES = frozenset({"submitting", "live", "partially_filled", "cancelling", "unknown"})
# Ladder states in which fills and the position matter.
POSITION_STATES = frozenset({"partially_filled", "filled", "cancelling"})
FILL_STATES = frozenset({"entries_open", "partially_filled", "filled", "cancelling"})
# After an ambiguous submit, OKX's "does not exist" counts only once this much exchange time passed.
NOT_FOUND_GRACE_MS = 5_000


class OrderSpec(Protocol):
    """What the observer needs of the order machine's spec."""

    def classify(self, state: str, trigger: str) -> str: ...

    def dest(self, state: str, trigger: str) -> str: ...


def observation_of(order: OkxOrder | None) -> str:
    """The order machine's trigger for what OKX shows."""
    if order is None:
        return "not_found"
    if order.state in ("canceled", "mmp_canceled"):
        if order.cancelSource == "31" and order.accFillSz == 0:
            return "seen_canceled_post_only"
        return "seen_canceled"
    return f"seen_{order.state}"


def apply_order_observation(
    rung: Rung, trigger: str, order_spec: OrderSpec, commit: Commit, evidence: dict[str, Any]
) -> None:
    """Run one observation through the order machine and journal what it did."""
    verdict = order_spec.classify(rung.state, trigger)
    if verdict == "anomaly":
        label = f"{trigger} in {rung.state}"
        if rung.last_anomaly != label:
            rung.last_anomaly = label
            commit(
                "anomaly", {"clOrdId": rung.clOrdId, "observation": trigger, "state": rung.state, **evidence}
            )
        return
    if verdict == "transition":
        before = rung.state
        rung.state = order_spec.dest(rung.state, trigger)
        rung.last_anomaly = None
        commit(
            "order",
            {"clOrdId": rung.clOrdId, "observation": trigger, "from": before, "to": rung.state, **evidence},
        )


def _mirror(rung: Rung, order: OkxOrder, commit: Commit) -> bool:
    """Copy OKX's fields onto the rung; accFillSz never decreases. Returns whether anything changed."""
    m = rung.okx
    if order.accFillSz < m.accFillSz:
        commit(
            "anomaly",
            {
                "clOrdId": rung.clOrdId,
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


def observe_rungs(ctx: TickContext, order_spec: OrderSpec, commit: Commit) -> None:
    """Bring every tracked rung up to what OKX shows.

    Terminal rungs are not queried, but once orders-pending has been fetched for the tracked ones, a
    terminal rung that still shows there is run through the order machine too (it is an anomaly).
    """
    symbol = ctx.params.symbol
    tracked = [r for r in ctx.state.rungs if r.state in TRACKED_STATES]
    if not tracked:
        return
    pending_by_cl = {o.clOrdId: o for o in ctx.view.pending_orders(symbol).values() if o.clOrdId}
    for rung in ctx.state.rungs:
        order = pending_by_cl.get(rung.clOrdId)
        if rung.state not in TRACKED_STATES:
            if order is not None and rung.terminal:
                apply_order_observation(rung, observation_of(order), order_spec, commit,
                                        {"evidence": dict(order.raw)})
            continue
        if order is None:
            order = ctx.view.order(symbol, rung.clOrdId)
        if order is not None and order.clOrdId not in (None, rung.clOrdId):
            continue  # never adopt an order whose identity does not match
        trigger = observation_of(order)
        if trigger == "not_found" and rung.state == "unknown":
            since = ctx.view.now_ms() - (rung.submit_ts or 0)
            if since < NOT_FOUND_GRACE_MS:
                continue  # too early to believe "does not exist" after an ambiguous submit
        evidence: dict[str, Any] = {"evidence": dict(order.raw) if order is not None else None}
        changed = order is not None and _mirror(rung, order, commit)
        state_before = rung.state
        apply_order_observation(rung, trigger, order_spec, commit, evidence)
        if changed and rung.state == state_before:
            commit("order", {"clOrdId": rung.clOrdId, "observation": trigger, "update": True, **evidence})


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
    """Record every new fill of our rungs once (by tradeId) and move the billId cursor."""
    s = ctx.state
    if s.state not in FILL_STATES or not s.rungs:
        return
    fills = ctx.view.fills_since(ctx.params.symbol, s.fills_cursor)
    ours_cl = {r.clOrdId for r in s.rungs}
    ours_ord = {r.ordId for r in s.rungs if r.ordId}
    known = s.known_trade_ids()
    for f in sorted(fills, key=lambda f: int(f.billId)):
        if (f.clOrdId in ours_cl or f.ordId in ours_ord) and f.tradeId not in known:
            s.fills.append(_fill_record(f))
            known.add(f.tradeId)
            commit("fill", {"clOrdId": f.clOrdId, "tradeId": f.tradeId, "evidence": dict(f.raw)})
    if fills:
        newest = max(fills, key=lambda f: int(f.billId)).billId
        if s.fills_cursor is None or int(newest) > int(s.fills_cursor):
            s.fills_cursor = newest
    _check_fill_sums(ctx, commit)


def _check_fill_sums(ctx: TickContext, commit: Commit) -> None:
    """The fills of an order never sum past its accFillSz (fills may lag; never lead)."""
    for rung in ctx.state.rungs:
        total = sum((f.fillSz for f in ctx.state.fills if f.clOrdId == rung.clOrdId), Decimal("0"))
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
    """Mirror the position in states that hold or may hold one; journal when its size changes."""
    s, p = ctx.state, ctx.params
    if s.state not in POSITION_STATES:
        return
    pos = ctx.view.position(p.symbol, p.pos_side)
    size = Decimal("0") if pos is None else pos.pos
    previous = None if s.position is None else s.position.pos
    s.position = PositionMirror(
        instId=p.symbol,
        posSide=p.pos_side,
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


def observe_close(ctx: TickContext, commit: Commit) -> None:
    """Settle a sent close whose outcome leaves the position open, once per tick, before rows fire.

    Refused with an explicit code (journaled last tick): nothing was applied, so it is no longer
    "sent" and the exit row may send it again. Ambiguous, or a crash after its write-ahead record:
    a query by its clOrdId decides: found, it was accepted; unknown to OKX after the grace, it never
    landed and may be sent again. Never resent within the tick that sent it.
    """
    s, req = ctx.state, ctx.state.close_request
    if s.state != "filled" or req is None or req.sent_ts is None or req.outcome == "accepted":
        return
    order: OkxOrder | None = None
    if req.outcome is not None and req.outcome.startswith("rejected:"):
        observation = req.outcome  # the refusal journaled when it was sent: nothing was applied
    else:  # ambiguous, or no answer journaled at all (a crash after the write-ahead record)
        order = ctx.view.order(ctx.params.symbol, req.clOrdId)
        if order is None and ctx.view.now_ms() - req.sent_ts < NOT_FOUND_GRACE_MS:
            return
        observation = observation_of(order)
    if order is None:
        req.sent_ts = None
    else:
        req.outcome = "accepted"
    commit(
        "order",
        {
            "clOrdId": req.clOrdId,
            "observation": observation,
            "close": req.to_dict(),
            "evidence": None if order is None else dict(order.raw),
        },
    )
