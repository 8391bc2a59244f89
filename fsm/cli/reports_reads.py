"""The documents of the other read commands: intent, open orders, reconcile, account and history.

Every builder returns plain JSON values with stable keys (documented in the README). Builders that
need OKX take an ExchangeView over an unarmed client, or what one read: nothing here can POST.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from exchange import Balance, OkxOrder, Position
from fsm.cli.reports_status import next_rows_document, optional_dec, signal_document, state_document
from fsm.engine import stops
from fsm.engine.actions import render_intent
from fsm.engine.env import ActionEnv
from fsm.engine.machine import LoadedMachine
from fsm.engine.orders import dec
from fsm.engine.state import LadderState
from fsm.engine.tick import TickResult, preview_tick
from fsm.engine.view import ExchangeView

# --- intent ------------------------------------------------------------------------------------

ORDER_ALGO = "/api/v5/trade/order-algo"


def intent_document(machine: LoadedMachine, state: LadderState, view: ExchangeView) -> dict[str, Any]:
    """The cycle's signal and exact payloads: from the state, or rendered now (in memory) from idle."""
    preview = preview_tick(machine, view, state)
    shadow = LadderState.from_dict(state.to_dict())
    source = "state"
    if not shadow.rungs:
        ctx = machine.context(shadow, view, armed=False)
        if ctx.signal() is not None:
            env = ActionEnv(ctx=ctx, commit=lambda *_: None, trader=None)
            render_intent(env)
            source = "rendered_now"
        else:
            source = "none"
    payloads = [r.payload for r in shadow.rungs]
    return {
        "machine": machine.name,
        "state": state.state,
        "source": source,
        "signal": signal_document(shadow),
        "cycle_id": shadow.cycle_id,
        "expiry_ts": shadow.expiry_ts,
        "now_ms": view.now_ms(),
        "payloads": payloads,
        "rungs": [{"level": r.level, "clOrdId": r.clOrdId, "state": r.state} for r in shadow.rungs],
        "request": None
        if not payloads
        else {"method": "POST", "path": "/api/v5/trade/batch-orders", "body": payloads},
        "stop": stop_request_document(machine, shadow, view),
        "next": next_rows_document(machine, state, preview),
    }


def stop_request_document(
    machine: LoadedMachine, state: LadderState, view: ExchangeView
) -> dict[str, Any] | None:
    """The stop's place request: the current stop's as it was sent, or else the one the machine's own
    fills call for now (rendered in memory, nothing sent); None when there is nothing to protect."""
    p, stop = machine.params, state.stop
    source = "state"
    if stop is None or not stop.payload:
        want = stops.target(p, state, view)
        if want is None:
            return None
        stop, source = stops.next_stop(p, state, machine.stops.initial, want), "rendered_now"
        stop.payload = stops.payload(p, state, view, stop)
    return {
        "source": source,
        "algoClOrdId": stop.algoClOrdId,
        "state": stop.state,
        "request": {"method": "POST", "path": ORDER_ALGO, "body": stop.payload},
    }


# --- open orders -------------------------------------------------------------------------------


def order_row(order: OkxOrder) -> dict[str, Any]:
    return {
        "instId": order.instId,
        "ordId": order.ordId,
        "clOrdId": order.clOrdId,
        "side": order.side,
        "posSide": order.posSide,
        "ordType": order.ordType,
        "px": optional_dec(order.px),
        "sz": dec(order.sz),
        "accFillSz": dec(order.accFillSz),
        "avgPx": optional_dec(order.avgPx),
        "state": order.state,
        "cTime": order.cTime,
    }


def open_orders_document(
    machine: LoadedMachine, state: LadderState, orders: Sequence[OkxOrder]
) -> dict[str, Any]:
    """OKX's pending orders of the machine's symbol; ours are those whose clOrdId is one of our rungs."""
    rungs = {r.clOrdId: r.level for r in state.rungs}
    prefix = machine.params.client_order_id_prefix
    rows = []
    for order in orders:
        cl = order.clOrdId or ""
        row = order_row(order)
        row["ours"] = cl in rungs or cl.startswith(prefix)
        row["rung"] = rungs.get(cl)
        rows.append(row)
    return {
        "machine": machine.name,
        "symbol": machine.params.symbol,
        "orders": rows,
        "ours": sum(1 for r in rows if r["ours"]),
        "foreign": sum(1 for r in rows if not r["ours"]),
    }


# --- reconcile ---------------------------------------------------------------------------------


def changes(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """Every value that differs, by path ("rungs[0].state"); a record that appears or goes is one change."""
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        out: list[dict[str, Any]] = []
        for key in sorted(set(before) | set(after)):
            out += changes(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(before, list) and isinstance(after, list):
        out = []
        for i in range(max(len(before), len(after))):
            out += changes(
                before[i] if i < len(before) else None, after[i] if i < len(after) else None, f"{path}[{i}]"
            )
        return out
    return [] if before == after else [{"field": path, "before": before, "after": after}]


def reconcile_document(
    machine: LoadedMachine, before: dict[str, Any], result: TickResult, cursor: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "machine": machine.name,
        "before": result.before,
        "after": result.after,
        "fired": [f.__dict__ for f in result.fired],
        "journaled": list(result.journaled),
        "changes": changes(before, result.state.to_dict()),
        "state": state_document(machine.name, result.state, dict(cursor)),
    }


# --- account -----------------------------------------------------------------------------------


def position_row(p: Position) -> dict[str, Any]:
    return {
        "instId": p.instId,
        "posSide": p.posSide,
        "mgnMode": p.mgnMode,
        "pos": dec(p.pos),
        "avgPx": optional_dec(p.avgPx),
        "markPx": optional_dec(p.markPx),
        "upl": optional_dec(p.upl),
        "liqPx": optional_dec(p.liqPx),
    }


def account_document(balance: Balance, positions: Iterable[Position], pos_mode: str) -> dict[str, Any]:
    return {
        "pos_mode": pos_mode,
        "balance": {
            "totalEq": optional_dec(balance.totalEq),
            "uTime": balance.uTime,
            "details": [
                {
                    "ccy": d.ccy,
                    "eq": optional_dec(d.eq),
                    "cashBal": optional_dec(d.cashBal),
                    "availBal": optional_dec(d.availBal),
                    "frozenBal": optional_dec(d.frozenBal),
                    "ordFrozen": optional_dec(d.ordFrozen),
                }
                for d in balance.details
            ],
        },
        "positions": [position_row(p) for p in positions],
    }


# --- history -----------------------------------------------------------------------------------


def summarize(kind: str, data: Mapping[str, Any]) -> str:
    """One line saying what a journal record is about."""
    name = data.get("algoClOrdId") or data.get("clOrdId")  # a stop's records name its algoClOrdId
    if kind == "transition":
        return f"{data.get('from')} -> {data.get('to')} (row {data.get('row')})"
    if kind == "order":
        if data.get("child"):
            return f"{name}: its child order {data['child']} {data.get('observation')}"
        if data.get("update"):
            return f"{name}: {data.get('observation')} (fields updated)"
        if "from" not in data:  # the exit order: followed on OKX, no order machine of its own
            return f"{name}: {data.get('observation')}"
        return f"{name}: {data.get('from')} -> {data.get('to')} on {data.get('observation')}"
    if kind == "fill":
        ev = data.get("evidence") or {}
        trade = data.get("tradeId")
        return f"{name}: fill {ev.get('fillSz')} @ {ev.get('fillPx')} (tradeId {trade})"
    if kind == "intent":
        return f"rendered {len(data.get('payloads', []))} payloads: " + ", ".join(
            f"{p.get('clOrdId')} {p.get('sz')}@{p.get('px')}" for p in data.get("payloads", [])
        )
    if kind == "submit":
        what = data.get("what")
        if what == "entries":
            return "sending " + ", ".join(str(p.get("clOrdId")) for p in data.get("payloads", []))
        if what == "stop":
            stop = data.get("stop") or {}
            return (
                f"placing stop {stop.get('algoClOrdId')}: sz {stop.get('sz')}, sl {stop.get('slTriggerPx')} "
                f"({stop.get('trigger_px_type')})"
            )
        if what == "stop_amend":
            to = data.get("to") or {}
            return f"amending stop {name}: sz {to.get('sz')}, sl {to.get('slTriggerPx')}"
        return f"sending {what}"
    if kind == "ack":
        return f"{data.get('what')}: " + str(data.get("outcome") or data.get("code") or "answered")
    if kind == "cancel":
        if data.get("what") == "stop":
            return f"cancel requested for stop {', '.join(data.get('algoClOrdIds', []))}: {data.get('why')}"
        return "cancel requested for " + ", ".join(data.get("clOrdIds", []))
    if kind == "anomaly":
        return f"{name}: {data.get('observation')} in {data.get('state', '?')}"
    if kind == "archive":
        summary = data.get("summary") or {}
        if not summary:  # archived before cycles carried their results
            return f"cycle {data.get('cycle_id')} archived, filled {data.get('filled_sz')}"
        ended = f", exit {data['exit_reason']}" if data.get("exit_reason") else ""
        if Decimal(summary["bought"]) == 0:
            return f"cycle {data.get('cycle_id')} archived{ended}: nothing filled"
        return (
            f"cycle {data.get('cycle_id')} archived{ended}: "
            f"bought {summary['bought']} @ {_shown(summary['avg_entry'])}, "
            f"sold {summary['sold']} @ {_shown(summary['avg_exit'])}, fees {summary['fees']}, "
            f"realized {_shown(summary['realized_pnl'])} {summary['fee_ccy'] or ''}".rstrip()
        )
    if kind == "operator":
        outcome = data.get("outcome")
        return f"operator: {data.get('command')}" + ("" if outcome is None else f": {outcome}")
    if kind == "observe":
        if "position" in data:
            pos = data["position"]
            return f"position {pos.get('posSide')} {pos.get('pos')}"
        return ", ".join(f"{k}={v}" for k, v in data.items() if k != "evidence")
    return ", ".join(sorted(data))


def _shown(value: str | None) -> str:
    """A journaled value that may be missing, as a line shows it."""
    return "-" if value is None else value


def mentions(data: Any, needle: str) -> bool:
    """Whether a record's data names `needle` anywhere (a clOrdId, in evidence or payloads)."""
    if isinstance(data, Mapping):
        return any(mentions(v, needle) for v in data.values())
    if isinstance(data, list):
        return any(mentions(v, needle) for v in data)
    return bool(data == needle)


def history_document(machine: LoadedMachine, client_order_id: str | None) -> dict[str, Any]:
    """The journal as a timeline (verified as it is read); optionally only records naming a clOrdId."""
    from fsm.persist.journal import JournalReader

    journal = machine.state_path.with_suffix(".jsonl")
    records = []
    ladder: str | None = None  # the ladder state after each record: a unit's snapshot, or its transitions
    if journal.exists():
        for r in JournalReader(journal):
            if r.kind == "transition":
                ladder = r.data.get("to")
            if r.state is not None:
                ladder = r.state.get("state")
            if client_order_id is not None and not mentions(r.data, client_order_id):
                continue
            records.append(
                {
                    "seq": r.seq,
                    "ts": r.ts,
                    "kind": r.kind,
                    "state": ladder,
                    "summary": summarize(r.kind, r.data),
                    "data": r.data,
                }
            )
    return {
        "machine": machine.name,
        "journal": str(journal),
        "client_order_id": client_order_id,
        "records": records,
    }
