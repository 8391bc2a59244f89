"""Orders of ours that the state does not know: found before a cycle's first send, adopted or refused.

A lost or rebuilt state directory is not a blank account: OKX may still hold orders (or a position from
their fills) whose clOrdIds carry this machine's prefix. Before the entries are sent, orders-pending (and,
on a fresh state, orders-history for the bars a cycle can span) is searched for them. Without --adopt the
tick refuses with their list and sends nothing; with it they become the cycle the state tracks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from exchange import OkxOrder
from fsm.engine.context import TickContext
from fsm.engine.observe import observation_of
from fsm.engine.orders import CloseOrder, OkxMirror, Rung
from fsm.engine.signals import bar_ms
from fsm.errors import EngineError, ExitStatus

Commit = Callable[[str, dict[str, Any]], None]


class OrphansFound(EngineError):
    """OKX holds orders with this machine's clOrdId prefix that its state does not know."""

    exit_code = ExitStatus.STATE_REFUSED


def _pattern(prefix: str) -> re.Pattern[str]:
    """`<prefix><13-digit signal ms>r<rung>a<attempt>`, exactly as build_client_order_id makes it."""
    return re.compile(rf"^{re.escape(prefix)}(\d{{13}})r(\d+)a(\d+)$")


def find_orphans(ctx: TickContext) -> list[OkxOrder]:
    """Pending orders with our prefix the state does not know; on a fresh state also the recent ended
    ones whose fills would still leave a position of ours open."""
    p, s = ctx.params, ctx.state
    ours, match = s.own_client_order_ids(), _pattern(p.client_order_id_prefix).match

    def foreign_ours(o: OkxOrder) -> bool:
        return bool(o.clOrdId and match(o.clOrdId)) and o.clOrdId not in ours

    # REST's pending list, never one brought up to date by pushes: after a lost push an order of an
    # archived cycle would still look live there, and the machine would refuse (park) on a ghost.
    found = [o for o in ctx.view.venue_pending_orders(p.symbol).values() if foreign_ours(o)]
    if s.cycles_completed == 0 and s.archived_cycle_id is None:
        since = ctx.view.now_ms() - (p.expiry_bars + p.hold_bars + 2) * bar_ms(p.bar)
        ended = [o for o in ctx.view.recent_history(p.symbol) if foreign_ours(o) and o.cTime >= since]
        held = sum((o.accFillSz if o.side == p.side else -o.accFillSz for o in ended), Decimal("0"))
        if held > 0:
            found += [o for o in ended if o.accFillSz > 0]
    return sorted(found, key=lambda o: int(o.ordId))


def adopt_orphans(ctx: TickContext, orphans: list[OkxOrder], commit: Commit) -> None:
    """Take the orphans over as the cycle the state tracks (journaled with their evidence), in place
    of the rendered intent; or, without --adopt, refuse the tick and send nothing."""
    p, s = ctx.params, ctx.state
    listing = ", ".join(
        f"{o.clOrdId} ({o.state}, {format(o.accFillSz, 'f')}/{format(o.sz, 'f')})" for o in orphans
    )
    cycles = {int(_parse(p.client_order_id_prefix, o)[0]) for o in orphans}
    if not ctx.adopt or len(cycles) > 1:
        if len(cycles) > 1:
            why = "they span several cycles: cancel or close them in the OKX app"
        else:
            why = "run again with --adopt to take them over into this machine's state, or cancel them"
        raise OrphansFound(
            f"OKX holds {len(orphans)} order(s) with this machine's clOrdId prefix "
            f"{p.client_order_id_prefix!r} "
            f"that its state does not know: {listing}. They may be a lost state directory's. Nothing was "
            f"sent; {why}."
        )
    signal_ts = cycles.pop()
    span = bar_ms(p.bar)
    s.cycle_id, s.last_signal_candle_ts, s.signal = f"{p.client_order_id_prefix}{signal_ts}", signal_ts, None
    s.expiry_ts = signal_ts + (1 + p.expiry_bars) * span
    s.entry_start_ts = min(o.cTime for o in orphans)
    s.exit_due_ts = s.entry_start_ts + p.hold_bars * span
    s.fills_cursor = s.fills_cursor_ts = None
    s.rungs, s.close_request, s.exit_client_order_ids = [], None, []
    for order in orphans:
        _, level, attempt = _parse(p.client_order_id_prefix, order)
        mirror = OkxMirror(
            ordId=order.ordId,
            state=order.state,
            accFillSz=order.accFillSz,
            avgPx=order.avgPx,
            fillSz=order.fillSz,
            tradeId=order.tradeId,
            cancelSource=order.cancelSource,
            uTime=order.uTime,
        )
        assert order.clOrdId is not None
        if level == 0:
            s.exit_client_order_ids.append(order.clOrdId)
            s.close_request = CloseOrder(
                requested_by="exit",
                requested_ts=order.cTime,
                clOrdId=order.clOrdId,
                sent_ts=order.cTime,
                outcome="accepted",
                attempt=attempt,
                sz=order.sz,
                okx=mirror,
            )
            continue
        rung = Rung(
            level=level,
            clOrdId=order.clOrdId,
            px=order.px or Decimal("0"),
            sz=order.sz,
            state=ctx.orders.initial,
            attempt=attempt,
            submit_ts=order.cTime,
            okx=mirror,
        )
        # It was sent (by a lost state) and OKX shows it: the order machine says what that makes it.
        for trigger in ("submit", observation_of(order)):
            rung.state = ctx.order_machine.observe(rung.state, trigger)[1]
        s.rungs.append(rung)
    s.rungs.sort(key=lambda r: r.level)
    commit(
        "operator",
        {"command": "adopt", "cycle_id": s.cycle_id, "orders": [dict(o.raw) for o in orphans]},
    )


def _parse(prefix: str, order: OkxOrder) -> tuple[str, int, int]:
    found = _pattern(prefix).match(order.clOrdId or "")
    assert found is not None
    return found.group(1), int(found.group(2)), int(found.group(3))
