"""The ladder's actions: the only code that POSTs, and only through an armed trading client.

Each action journals what it is about to send (write-ahead, fsynced) before the POST, then journals
the outcome, which is one of three: rejected with an explicit code, accepted, or ambiguous. An
ambiguous outcome is never taken as failed or not found: the order machine keeps the rung in flight
and a query by clOrdId resolves it later, never a resubmission. Every place carries an expTime
deadline, so after it OKX's "does not exist" is final. 51016 means an order with that clOrdId
exists: it is adopted.

Each action is registered with what it needs (ACTION_NEEDS), which `check` holds the YAML to. Each
action is idempotent over the state it leaves: run again after a crash that lost the transition
record, it sends nothing twice and journals no effect twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from exchange import (
    OkxAmbiguousOutcome,
    OkxApiError,
    OkxOrderAck,
    build_client_order_id,
)
from fsm.engine import ownership
from fsm.engine.account import check_tradeable, ensure_leverage
from fsm.engine.env import ActionEnv, error_evidence, trader_of
from fsm.engine.ladder import render_ladder
from fsm.engine.observe import apply_order_observation
from fsm.engine.orders import CloseOrder, OkxMirror, Rung
from fsm.engine.orphans import adopt_orphans, find_orphans
from fsm.engine.pnl import cycle_summary, exit_reason
from fsm.engine.signals import bar_ms, newest_closed_bar_open
from fsm.engine.stop_actions import cancel_stop, place_stop, resize_stop
from fsm.errors import EngineError, ExitStatus
from fsm.risk.gate import RISK_RECORD, RiskRefused, trading_refusal
from fsm.risk.trading import Trading, TradingState
from fsm.spec.model import Needs

KEEP_ENTRIES = "keep"  # on_reducing: working entries rest while the account is REDUCING
CLOSE_LEVEL = 0  # the clOrdId "rung" number of the cycle's exit order (entry rungs are 1..n)
DUPLICATE_CL_ORD_ID = "51016"


def render_intent(env: ActionEnv) -> None:
    """The tick's signal as the ladder's post-only payloads with deterministic clOrdIds (nothing sent)."""
    ctx, p, s = env.ctx, env.ctx.params, env.ctx.state
    sig = ctx.signal()
    if sig is None:  # the guard said yes in this very tick; a None here is a bug, not a market event
        raise RuntimeError("render_intent fired without a signal")
    cycle_id = f"{p.client_order_id_prefix}{sig.candle_ts}"
    if s.cycle_id == cycle_id and s.rungs:
        return  # rendered and journaled already (a crash lost the transition record): never twice
    config = ctx.view.account_config()
    check_tradeable(p.td_mode, config.acctLv)
    s.pos_mode = config.posMode
    instrument = ctx.view.instrument(p.symbol)
    payloads = render_ladder(
        sig.ref_px, p, instrument, sig.candle_ts, 0, pos_side=ownership.okx_pos_side(p, s)
    )
    s.signal = sig
    s.cycle_id = cycle_id
    s.cooldown_until_ts = None  # a cooldown is over once a cycle starts
    s.ct_val = instrument.ctVal
    s.tick_sz = instrument.tickSz
    s.last_signal_candle_ts = sig.candle_ts
    s.last_evaluated_candle_ts = max(sig.candle_ts, s.last_evaluated_candle_ts or 0)
    s.expiry_ts = sig.close_ts + p.expiry_bars * bar_ms(p.bar)
    s.rungs = [
        Rung(
            level=i + 1,
            clOrdId=pl["clOrdId"],
            px=Decimal(pl["px"]),
            sz=Decimal(pl["sz"]),
            state=ctx.orders.initial,
            payload=dict(pl),
        )
        for i, pl in enumerate(payloads)
    ]
    env.commit(
        "intent",
        {
            "signal": sig.to_dict(),
            "payloads": payloads,
            "instrument": dict(instrument.raw),
            "account": {"posMode": config.posMode, "acctLv": config.acctLv},
        },
    )


def submit_entries(env: ActionEnv) -> None:
    """Send every rendered rung in one batch-orders request with an expTime deadline.

    Before anything is sent: orders of ours OKX holds that the state does not know are adopted (with
    --adopt) or refused, the leverage the YAML asks for is set and verified, and the write-ahead record
    (payloads, deadline) is fsynced.
    """
    ctx, p, s = env.ctx, env.ctx.params, env.ctx.state
    trader = trader_of(env)
    refusal = ctx.risk_refusal()
    if refusal is not None:  # a ladder whose risk_refused row does not come first: still never sent
        raise RiskRefused(str(refusal))
    to_send = [r for r in s.rungs if r.state in ctx.orders.unsent]
    if not to_send:
        return  # sent already (a crash lost the transition record): never twice
    orphans = find_orphans(ctx)
    if orphans:
        adopt_orphans(env.ctx, orphans, env.commit)
        return
    ensure_leverage(env, trader)
    now, sent = ctx.view.now_ms(), ctx.view.send_time_ms(len(to_send))
    deadline = sent + p.exp_time_ms
    for r in to_send:
        apply_order_observation(r, "submit", env.ctx.order_machine, lambda *_: None, {})
        r.submit_ts, r.exp_time_ms = sent, deadline
    if s.entry_start_ts is None:
        s.entry_start_ts = now
        s.exit_due_ts = now + p.hold_bars * bar_ms(p.bar)
    env.commit("submit", {"what": "entries", "payloads": [r.payload for r in to_send], "expTime": deadline})
    env.flush()  # write-ahead: durable before the POST
    try:
        acks = trader.place_batch_orders(p.symbol, [r.payload for r in to_send], exp_time_ms=deadline)
    except OkxAmbiguousOutcome as exc:
        for r in to_send:
            apply_order_observation(
                r, "ack_ambiguous", env.ctx.order_machine, env.commit, error_evidence(exc)
            )
        return
    except OkxApiError as exc:
        if not exc.items:  # the whole request was refused: explicit, nothing applied
            for r in to_send:
                r.reject = {"sCode": exc.code, "sMsg": exc.msg}
                apply_order_observation(
                    r, "ack_rejected", env.ctx.order_machine, env.commit, error_evidence(exc)
                )
            return
        acks = list(exc.items)
    _apply_place_acks(env, to_send, acks)


def refuse_entries(env: ActionEnv) -> None:
    """Journal why the gate refused the rendered entries (a `risk` record) and keep it for `status`;
    nothing is sent, and the row's other actions drop the intent."""
    s = env.ctx.state
    refusal = env.ctx.risk_refusal()
    if refusal is None:  # the guard said yes in this very tick; a None here is a bug
        raise RuntimeError("refuse_entries fired without a refusal")
    record = {"cycle_id": s.cycle_id, **refusal.to_dict()}
    if s.last_risk_refusal == record:
        return  # journaled already (a crash lost the transition record): never twice
    s.last_risk_refusal = record
    env.commit(RISK_RECORD, record)


def withdraw_entries(env: ActionEnv, trading: Trading) -> None:
    """Cancel the working entry rungs when the account's trading state says so (HALTED always,
    REDUCING unless the machine's on_reducing is `keep`): a `risk` record says why, then the cancel
    goes out as the operator's does. Exits and stops are never touched."""
    ctx, s = env.ctx, env.ctx.state
    if trading.state is TradingState.ACTIVE:
        return
    if trading.state is TradingState.REDUCING and ctx.params.on_reducing == KEEP_ENTRIES:
        return
    working = [r for r in s.rungs if r.state in ctx.orders.cancellable]
    if not working:
        return
    ids = ", ".join(r.clOrdId for r in working)
    refusal = trading_refusal(trading, f"{ctx.ladder.name} working entries {ids} cancelled")
    env.commit(RISK_RECORD, {"cycle_id": s.cycle_id, **refusal.to_dict()})
    cancel_rungs(env, working)


def _apply_place_acks(env: ActionEnv, sent: list[Rung], acks: list[OkxOrderAck]) -> None:
    by_cl = {a.clOrdId: a for a in acks if a.clOrdId}
    for i, r in enumerate(sent):
        ack = by_cl.get(r.clOrdId) or (acks[i] if i < len(acks) and not acks[i].clOrdId else None)
        if ack is None:  # OKX answered but said nothing of this rung: outcome unknown
            apply_order_observation(r, "ack_ambiguous", env.ctx.order_machine, env.commit, {"ack": None})
            continue
        evidence = {"ack": dict(ack.raw)}
        if ack.ok:
            r.okx.ordId = ack.ordId
            apply_order_observation(r, "ack_accepted", env.ctx.order_machine, env.commit, evidence)
        elif ack.sCode == DUPLICATE_CL_ORD_ID:  # an order with this clOrdId exists: ours, adopt it
            apply_order_observation(r, "ack_duplicate", env.ctx.order_machine, env.commit, evidence)
        else:
            r.reject = {"sCode": ack.sCode, "sMsg": ack.sMsg or ""}
            apply_order_observation(r, "ack_rejected", env.ctx.order_machine, env.commit, evidence)


def cancel_working_rungs(env: ActionEnv) -> None:
    """Ask OKX to cancel every rung that may still rest on the book, strays included (one request).

    A rung whose cancel went out within the retry interval is left alone: after a crash that lost the
    transition record, the same cancel is not sent (or journaled) again.
    """
    ctx = env.ctx
    now, retry_ms = ctx.view.now_ms(), ctx.params.cancel_retry_seconds * 1000
    targets = [
        r
        for r in ctx.state.rungs
        if (r.state in ctx.orders.cancellable or r.stray)
        and (r.cancel_sent_ts is None or now - r.cancel_sent_ts >= retry_ms)
    ]
    if not targets:
        ctx.state.last_cancel_ts = now
        return
    cancel_rungs(env, targets)


def cancel_rungs(env: ActionEnv, targets: list[Rung]) -> None:
    """Cancel these rungs in one cancel-batch request: journaled first, each outcome journaled after.

    An accepted cancel changes nothing yet: only OKX's order state ends a rung. A refusal (51400:
    already filled, canceled or unknown) is recorded, and the next observation tells which.
    """
    ctx, p, s = env.ctx, env.ctx.params, env.ctx.state
    trader = trader_of(env)
    s.last_cancel_ts = ctx.view.now_ms()
    if not targets:
        return
    for r in targets:
        apply_order_observation(r, "cancel_sent", env.ctx.order_machine, lambda *_: None, {})
        r.cancel_sent_ts = s.last_cancel_ts
    env.commit("cancel", {"clOrdIds": [r.clOrdId for r in targets]})
    env.flush()  # write-ahead: durable before the POST
    try:
        acks = trader.cancel_batch_orders(p.symbol, [(r.ordId, r.clOrdId) for r in targets])
    except OkxAmbiguousOutcome as exc:
        for r in targets:
            apply_order_observation(
                r, "cancel_ambiguous", env.ctx.order_machine, env.commit, error_evidence(exc)
            )
        return
    except OkxApiError as exc:
        if not exc.items:
            env.commit("ack", {"what": "cancel", **error_evidence(exc)})
            return
        acks = list(exc.items)
    by_cl = {a.clOrdId: a for a in acks if a.clOrdId}
    by_ord = {a.ordId: a for a in acks if a.ordId}
    for r in targets:
        ack = by_cl.get(r.clOrdId) or (by_ord.get(r.ordId) if r.ordId else None)
        if ack is not None and not ack.ok:
            apply_order_observation(
                r, "cancel_rejected", env.ctx.order_machine, env.commit, {"ack": dict(ack.raw)}
            )
    env.commit("ack", {"what": "cancel", "acks": [dict(a.raw) for a in acks]})


def close_position(env: ActionEnv) -> None:
    """Exit what this machine's own fills hold (the hold time is up, or the operator asked)."""
    send_exit(env, "flatten" if env.ctx.state.flatten_requested else "exit")


def on_stop_refused(env: ActionEnv) -> None:
    """The stop cannot protect the own size (refused for its price, or its child order failed): exit
    it at market at once, or, with `on_refused: park`, stop the machine with the reason."""
    p, s = env.ctx.params, env.ctx.state
    stop = s.stop
    if p.stop is not None and p.stop.on_refused == "park" and stop is not None:
        why = stop.reject or {"failCode": stop.okx.failCode or ""}
        raise StopRefused(
            f"{p.strategy_id}: the stop {stop.algoClOrdId} cannot protect the own size "
            f"{format(s.own_open(p.side), 'f')} ({', '.join(f'{k} {v}' for k, v in why.items())}) and "
            "on_refused is park: the position is held unprotected; close or flatten it "
            "(okx-fsm close MACHINE --submit) and run the machine again"
        )
    send_exit(env, "stop")


class StopRefused(EngineError):
    """The machine's stop cannot be placed and its YAML says park: a runner parks it with this reason."""

    exit_code = ExitStatus.EXCHANGE


def send_exit(env: ActionEnv, requested_by: str) -> None:
    """A reduce-only market order of exactly what this machine's own fills hold (capped by what OKX
    still holds on the side), deterministic clOrdId, expTime deadline; `requested_by` says why: "exit"
    (the hold time), "flatten" (the operator's) or "stop" (the stop could not protect it); the operator's
    close made its request before the tick.

    Never close-position, which would take the whole instrument's position, others' included. A new
    attempt (the next clOrdId) only after the last one ended short of the size.
    """
    ctx, p, s = env.ctx, env.ctx.params, env.ctx.state
    trader = trader_of(env)
    now = ctx.view.now_ms()
    if ownership.exit_in_flight(s):
        return  # sent already (a crash lost the transition record): never twice
    size = ownership.exit_size(p, s, ctx.view)
    if size <= 0:
        return  # nothing of ours left on OKX: position_flat archives the cycle
    req = s.close_request
    if req is None:
        req = CloseOrder(requested_by=requested_by, requested_ts=now, clOrdId=_exit_id(env, 0))
        s.close_request = req
    elif req.terminal_on_okx:  # the last attempt ended short: the next one, with its own clOrdId
        req.attempt += 1
        req.clOrdId, req.okx, req.outcome = _exit_id(env, req.attempt), OkxMirror(), None
    if req.clOrdId not in s.exit_client_order_ids:
        s.exit_client_order_ids.append(req.clOrdId)
    sent = ctx.view.send_time_ms()
    req.sz, req.sent_ts, req.exp_time_ms = size, sent, sent + p.exp_time_ms
    env.commit("submit", {"what": "close", "close": req.to_dict()})
    env.flush()  # write-ahead: durable before the POST
    net = s.pos_mode == ownership.NET_MODE
    try:
        ack = trader.place_order(
            p.symbol,
            side=ownership.exit_side(p),
            ord_type="market",
            sz=size,
            pos_side=ownership.okx_pos_side(p, s),
            td_mode=p.td_mode,
            client_order_id=req.clOrdId,
            reduce_only=True if net else None,  # in long/short mode a closing order is reduce-only
            exp_time_ms=req.exp_time_ms,
        )
    except OkxAmbiguousOutcome as exc:
        req.outcome = "ambiguous"
        env.commit("ack", {"what": "close", "outcome": "ambiguous", **error_evidence(exc)})
        return
    except OkxApiError as exc:
        code = exc.s_code or exc.code
        req.outcome = "ambiguous" if code == DUPLICATE_CL_ORD_ID else f"rejected:{code}"  # 51016: it exists
        env.commit("ack", {"what": "close", "outcome": req.outcome, **error_evidence(exc)})
        return
    req.outcome, req.okx.ordId = "accepted", ack.ordId
    env.commit("ack", {"what": "close", "outcome": "accepted", "evidence": dict(ack.raw)})


def _exit_id(env: ActionEnv, attempt: int) -> str:
    p, s = env.ctx.params, env.ctx.state
    return build_client_order_id(p.client_order_id_prefix, s.last_signal_candle_ts or 0, CLOSE_LEVEL, attempt)


def archive_cycle(env: ActionEnv) -> None:
    """Write the finished cycle to the journal, once, with what its own fills bought and sold."""
    s = env.ctx.state
    env.ctx.entered_closed_this_tick = True
    if s.archived_cycle_id is not None and s.archived_cycle_id == s.cycle_id:
        return  # archived already (a crash lost the transition record): never twice
    s.cycles_completed += 1
    s.archived_cycle_id = s.cycle_id
    summary = cycle_summary(s, env.ctx.params.side)
    env.commit(
        "archive",
        {
            "cycle_id": s.cycle_id,
            "rungs": [r.to_dict() for r in s.rungs],
            "fills": [f.to_dict() for f in s.fills],
            "filled_sz": format(s.filled_sz, "f"),
            "summary": summary.to_dict(),
            "stops": [stop.to_dict() for stop in s.stops],
            "exit_reason": exit_reason(s, env.ctx.params.side),
        },
    )
    _count_loss(env, summary.bought, summary.realized_pnl)


def _count_loss(env: ActionEnv, bought: Decimal, realized_pnl: Decimal | None) -> None:
    """Count the archived cycle's loss (a cycle that traded nothing counts neither way; one that did not
    lose ends the streak). With cooldown_after_losses declared, the count-th loss in a row starts a
    cooldown, journaled, over the next `bars` candles to close (none of them starts a cycle); the count
    starts again after it."""
    s, p, risk = env.ctx.state, env.ctx.params, env.ctx.risk
    if bought == 0 or realized_pnl is None:
        return
    s.losses_in_a_row = s.losses_in_a_row + 1 if realized_pnl < 0 else 0
    rule = None if risk is None else risk.limits.cooldown_after_losses
    if rule is None or s.losses_in_a_row < rule.count:
        return
    now, bar = env.ctx.view.now_ms(), bar_ms(p.bar)
    s.cooldown_until_ts = now - now % bar + (rule.bars + 1) * bar  # the close of the bars-th bar after
    env.commit(
        "cooldown",
        {
            "cycle_id": s.cycle_id,
            "losses_in_a_row": s.losses_in_a_row,
            "bars": rule.bars,
            "until_ts": s.cooldown_until_ts,
        },
    )
    s.losses_in_a_row = 0


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
    s.flatten_requested = False
    s.exit_client_order_ids = []
    s.rungs = []
    s.fills = []
    s.position = None
    s.position_anomaly = None
    s.stops = []


ActionFn = Callable[[ActionEnv], None]
# Each action with what it needs: its row's source state must track `reads`, its dest `follows`
# (what the action leaves on OKX must be followed there).
ACTIONS: Mapping[str, ActionFn] = {
    "render_intent": render_intent,
    "submit_entries": submit_entries,
    "cancel_working_rungs": cancel_working_rungs,
    "close_position": close_position,
    "archive_cycle": archive_cycle,
    "reset_cycle": reset_cycle,
    "refuse_entries": refuse_entries,
    "place_stop": place_stop,
    "resize_stop": resize_stop,
    "cancel_stop": cancel_stop,
    "on_stop_refused": on_stop_refused,
}
ACTION_NEEDS: Mapping[str, Needs] = {
    "render_intent": Needs(reads=frozenset({"signal"}), follows=frozenset({"orders"})),
    "submit_entries": Needs(reads=frozenset({"orders"}), follows=frozenset({"orders", "fills"})),
    "cancel_working_rungs": Needs(reads=frozenset({"orders"}), follows=frozenset({"orders"})),
    "close_position": Needs(
        reads=frozenset({"orders", "fills", "position"}), follows=frozenset({"orders", "fills", "position"})
    ),
    "archive_cycle": Needs(),
    "reset_cycle": Needs(follows=frozenset({"signal"})),
    "refuse_entries": Needs(reads=frozenset({"orders"})),
    "place_stop": Needs(reads=frozenset({"fills", "position", "stop"}), follows=frozenset({"stop"})),
    "resize_stop": Needs(reads=frozenset({"fills", "position", "stop"}), follows=frozenset({"stop"})),
    "cancel_stop": Needs(reads=frozenset({"stop"}), follows=frozenset({"stop"})),
    "on_stop_refused": Needs(
        reads=frozenset({"orders", "fills", "position", "stop"}),
        follows=frozenset({"orders", "fills", "position"}),
    ),
}
