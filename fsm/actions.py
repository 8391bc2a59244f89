"""The ladder's actions: the only code that POSTs, and only through an armed trading client.

Each action journals what it is about to send (write-ahead, fsynced) before the POST, then journals
the outcome, which is one of three: rejected with an explicit code, accepted, or ambiguous. An
ambiguous outcome is never taken as failed or not found: the rung goes to `unknown` and is resolved
later by a query by clOrdId, never by resubmitting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from exchange import (
    OkxAmbiguousOutcome,
    OkxApiError,
    OkxOrderAck,
    build_client_order_id,
    render_eth_entry_batch_payloads,
)
from fsm.guards import TickContext
from fsm.model import CloseOrder, Rung
from fsm.observe import Commit, OrderSpec, apply_order_observation
from fsm.signal import bar_ms, newest_closed_bar_open

CLOSE_LEVEL = 0  # the clOrdId "rung" number of the cycle's close order (entry rungs are 1..n)


class TradingClient(Protocol):
    """The trading half of `exchange.OkxClient` that actions use."""

    def place_batch_orders(self, symbol: str, payloads: Any) -> list[OkxOrderAck]: ...

    def cancel_batch_orders(self, symbol: str, order_ids: Any) -> list[OkxOrderAck]: ...

    def close_position(
        self, symbol: str, pos_side: str, mgn_mode: str, client_order_id: str | None = None
    ) -> Mapping[str, str]: ...


@dataclass
class ActionEnv:
    """What an action may touch: the tick's context, the order machine, the journal, the trader."""

    ctx: TickContext
    order_spec: OrderSpec
    commit: Commit
    trader: TradingClient | None  # None unless the tick is armed


class NotArmedError(RuntimeError):
    """An action that POSTs was reached without an armed client (a spec bug: guard with submit_armed)."""


def _trader(env: ActionEnv) -> TradingClient:
    if env.trader is None or not env.ctx.armed:
        raise NotArmedError("this action sends orders; it needs an explicit --submit")
    return env.trader


def _error_evidence(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, OkxApiError):
        return {
            "code": exc.code,
            "msg": exc.msg,
            "http_status": exc.http_status,
            "sCode": exc.s_code,
            "sMsg": exc.s_msg,
        }
    return {"error": type(exc).__name__, "detail": str(exc)}


def render_intent(env: ActionEnv) -> None:
    """Turn the tick's signal into three post-only payloads with deterministic clOrdIds (nothing sent)."""
    ctx, p, s = env.ctx, env.ctx.params, env.ctx.state
    sig = ctx.signal()
    if sig is None:  # the guard said yes in this very tick; a None here is a bug, not a market event
        raise RuntimeError("render_intent fired without a signal")
    instrument = ctx.view.instrument(p.symbol)
    payloads = render_eth_entry_batch_payloads(
        reference_px=sig.ref_px,
        notional_per_rung=p.notional_per_rung,
        instrument=instrument,
        signal_ts_ms=sig.candle_ts,
        prefix=p.cl_ord_id_prefix,
        offsets=p.offsets,
        attempt=0,
        symbol=p.symbol,
        td_mode=p.td_mode,
        pos_side=p.pos_side,
    )
    s.signal = sig
    s.cycle_id = f"{p.cl_ord_id_prefix}{sig.candle_ts}"
    s.last_signal_candle_ts = sig.candle_ts
    s.last_evaluated_candle_ts = max(sig.candle_ts, s.last_evaluated_candle_ts or 0)
    s.expiry_ts = sig.close_ts + p.expiry_bars * bar_ms(p.bar)
    s.rungs = [
        Rung(level=i + 1, clOrdId=pl["clOrdId"], px=Decimal(pl["px"]), sz=Decimal(pl["sz"]), payload=dict(pl))
        for i, pl in enumerate(payloads)
    ]
    env.commit("intent", {"signal": sig.to_dict(), "payloads": payloads, "instrument": dict(instrument.raw)})


def submit_entries(env: ActionEnv) -> None:
    """Send every rendered rung in one batch-orders request (write-ahead journaled first)."""
    ctx, p, s = env.ctx, env.ctx.params, env.ctx.state
    trader = _trader(env)
    now = ctx.view.now_ms()
    to_send = [r for r in s.rungs if r.state == "rendered"]
    if not to_send:
        return
    for r in to_send:
        apply_order_observation(r, "submit", env.order_spec, lambda *_: None, {})
        r.submit_ts = now
    if s.entry_start_ts is None:
        s.entry_start_ts = now
        s.exit_due_ts = now + p.hold_bars * bar_ms(p.bar)
    env.commit("submit", {"what": "entries", "payloads": [r.payload for r in to_send]})
    try:
        acks = trader.place_batch_orders(p.symbol, [r.payload for r in to_send])
    except OkxAmbiguousOutcome as exc:
        for r in to_send:
            apply_order_observation(r, "ack_ambiguous", env.order_spec, env.commit, _error_evidence(exc))
        return
    except OkxApiError as exc:
        if not exc.items:  # the whole request was refused: explicit, nothing applied
            for r in to_send:
                r.reject = {"sCode": exc.code, "sMsg": exc.msg}
                apply_order_observation(r, "ack_rejected", env.order_spec, env.commit, _error_evidence(exc))
            return
        acks = list(exc.items)
    _apply_place_acks(env, to_send, acks)


def _apply_place_acks(env: ActionEnv, sent: list[Rung], acks: list[OkxOrderAck]) -> None:
    by_cl = {a.clOrdId: a for a in acks if a.clOrdId}
    for i, r in enumerate(sent):
        ack = by_cl.get(r.clOrdId) or (acks[i] if i < len(acks) and not acks[i].clOrdId else None)
        if ack is None:  # OKX answered but said nothing of this rung: outcome unknown
            apply_order_observation(r, "ack_ambiguous", env.order_spec, env.commit, {"ack": None})
            continue
        evidence = {"ack": dict(ack.raw)}
        if ack.ok:
            r.okx.ordId = ack.ordId
            apply_order_observation(r, "ack_accepted", env.order_spec, env.commit, evidence)
        else:
            r.reject = {"sCode": ack.sCode, "sMsg": ack.sMsg or ""}
            apply_order_observation(r, "ack_rejected", env.order_spec, env.commit, evidence)


# Rung states whose order may rest on the book: a cancel is aimed at them (unknown ones by clOrdId).
CANCELLABLE_STATES = ("live", "partially_filled", "cancelling", "unknown")


def cancel_working_rungs(env: ActionEnv) -> None:
    """Ask OKX to cancel every rung that may still rest on the book (one cancel-batch request)."""
    cancel_rungs(env, [r for r in env.ctx.state.rungs if r.state in CANCELLABLE_STATES])


def cancel_rungs(env: ActionEnv, targets: list[Rung]) -> None:
    """Cancel these rungs in one cancel-batch request: journaled first, each outcome journaled after.

    An accepted cancel changes nothing yet: only OKX's order state ends a rung. A refusal (51400:
    already filled, canceled or unknown) is recorded, and the next observation tells which.
    """
    ctx, p, s = env.ctx, env.ctx.params, env.ctx.state
    trader = _trader(env)
    s.last_cancel_ts = ctx.view.now_ms()
    if not targets:
        return
    for r in targets:
        apply_order_observation(r, "cancel_sent", env.order_spec, lambda *_: None, {})
        r.cancel_sent_ts = s.last_cancel_ts
    env.commit("cancel", {"clOrdIds": [r.clOrdId for r in targets]})
    try:
        acks = trader.cancel_batch_orders(p.symbol, [(r.ordId, r.clOrdId) for r in targets])
    except OkxAmbiguousOutcome as exc:
        for r in targets:
            apply_order_observation(r, "cancel_ambiguous", env.order_spec, env.commit, _error_evidence(exc))
        return
    except OkxApiError as exc:
        if not exc.items:
            env.commit("ack", {"what": "cancel", **_error_evidence(exc)})
            return
        acks = list(exc.items)
    by_cl = {a.clOrdId: a for a in acks if a.clOrdId}
    by_ord = {a.ordId: a for a in acks if a.ordId}
    for r in targets:
        ack = by_cl.get(r.clOrdId) or (by_ord.get(r.ordId) if r.ordId else None)
        if ack is not None and not ack.ok:
            apply_order_observation(r, "cancel_rejected", env.order_spec, env.commit, {"ack": dict(ack.raw)})
    env.commit("ack", {"what": "cancel", "acks": [dict(a.raw) for a in acks]})


def close_position(env: ActionEnv) -> None:
    """Close the cycle's position with OKX's reduce-only market close (sent once, outcome journaled)."""
    ctx, p, s = env.ctx, env.ctx.params, env.ctx.state
    trader = _trader(env)
    now = ctx.view.now_ms()
    if s.close_request is None:
        s.close_request = CloseOrder(
            requested_by="exit",
            requested_ts=now,
            clOrdId=build_client_order_id(p.cl_ord_id_prefix, s.last_signal_candle_ts or 0, CLOSE_LEVEL, 0),
        )
    req = s.close_request
    req.sent_ts = now
    env.commit("submit", {"what": "close", "close": req.to_dict()})
    try:
        answer = trader.close_position(p.symbol, p.pos_side, p.td_mode, client_order_id=req.clOrdId)
    except OkxAmbiguousOutcome as exc:
        req.outcome = "ambiguous"
        env.commit("ack", {"what": "close", "outcome": "ambiguous", **_error_evidence(exc)})
        return
    except OkxApiError as exc:
        req.outcome = f"rejected:{exc.s_code or exc.code}"
        env.commit("ack", {"what": "close", "outcome": req.outcome, **_error_evidence(exc)})
        return
    req.outcome = "accepted"
    env.commit("ack", {"what": "close", "outcome": "accepted", "evidence": dict(answer)})


def archive_cycle(env: ActionEnv) -> None:
    """Write the finished cycle to the journal; the next tick may start a new one."""
    s = env.ctx.state
    s.cycles_completed += 1
    env.ctx.entered_closed_this_tick = True
    env.commit(
        "archive",
        {
            "cycle_id": s.cycle_id,
            "rungs": [r.to_dict() for r in s.rungs],
            "fills": [f.to_dict() for f in s.fills],
            "filled_sz": format(s.filled_sz, "f"),
        },
    )


def reset_cycle(env: ActionEnv) -> None:
    """Clear the archived cycle; keep the cursors that must survive it.

    Candles that closed while the cycle was in flight are spent: idle waits for a candle that
    closes after this reset, so a stale bar never starts the next cycle.
    """
    s, p = env.ctx.state, env.ctx.params
    newest_closed = newest_closed_bar_open(env.ctx.view.now_ms(), p.bar)
    s.last_evaluated_candle_ts = max(newest_closed, s.last_evaluated_candle_ts or newest_closed)
    s.cycle_id = None
    s.signal = None
    s.expiry_ts = s.entry_start_ts = s.exit_due_ts = s.last_cancel_ts = None
    s.close_request = None
    s.rungs = []
    s.fills = []
    s.position = None


ACTIONS: Mapping[str, Callable[[ActionEnv], None]] = {
    "render_intent": render_intent,
    "submit_entries": submit_entries,
    "cancel_working_rungs": cancel_working_rungs,
    "close_position": close_position,
    "archive_cycle": archive_cycle,
    "reset_cycle": reset_cycle,
}
