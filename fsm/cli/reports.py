"""The documents the read commands show, built once and then printed as JSON or as tables.

Every builder returns plain JSON values with stable keys (documented in the README). Builders that
need OKX take an unarmed client or an ExchangeView: nothing here can POST.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange import Balance, OkxOrder, Position
from fsm.cli.render import state_document
from fsm.engine import ownership
from fsm.engine.account import ModeRefused, check_tradeable
from fsm.engine.actions import render_intent
from fsm.engine.env import ActionEnv
from fsm.engine.machine import LoadedMachine
from fsm.engine.orders import dec
from fsm.engine.pnl import cycle_summary
from fsm.engine.runtime import Preview
from fsm.engine.state import LadderState
from fsm.engine.tick import TickResult, preview_tick
from fsm.engine.view import ExchangeView
from fsm.persist import spool
from fsm.persist.store import Inspection


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else dec(value)


# --- status ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """What `status --observe` learnt from OKX: exchange time, the preview, the live position, and
    whether the account's modes and leverage fit the machine."""

    now_ms: int
    preview: Preview
    position: Position | None
    account: dict[str, Any]


def observe_for_status(machine: LoadedMachine, state: LadderState, view: ExchangeView) -> Observation:
    """One round of read-only requests: exchange time, the next row with every guard's value, the position."""
    preview = preview_tick(machine, view, state)
    return Observation(
        now_ms=view.now_ms(),
        preview=preview,
        position=view.position(machine.params.symbol, ownership.okx_pos_side(machine.params, state)),
        account=account_fit_document(machine, view),
    )


def account_fit_document(machine: LoadedMachine, view: ExchangeView) -> dict[str, Any]:
    """posMode, acctLv and the instrument's leverage as OKX has them, and whether the machine can trade
    there (`refusal` says why not, before anything is sent)."""
    p = machine.params
    config = view.account_config()
    refusal = None
    try:
        check_tradeable(p.td_mode, config.acctLv)
    except ModeRefused as exc:
        refusal = str(exc)
    levers = {row.posSide or "net": dec(row.lever) for row in view.leverage(p.symbol, p.td_mode)}
    return {
        "posMode": config.posMode,
        "acctLv": config.acctLv,
        "td_mode": p.td_mode,
        "leverage": levers,
        "leverage_wanted": None if p.leverage is None else dec(p.leverage),
        "refusal": refusal,
    }


STALE_INTERVALS = 3  # a heartbeat older than this many intervals means the runner is not ticking


def runner_document(state_path: Path, now: float | None = None) -> dict[str, Any] | None:
    """The runner's heartbeat for this machine (None when no runner has ticked it), and whether it is
    stale: older than a few intervals, or the machine parked."""
    import time

    from fsm.service.runner import Heartbeat, heartbeat_path

    beat = Heartbeat.read(heartbeat_path(state_path))
    if beat is None:
        return None
    doc = beat.to_dict()
    age = None if beat.last_tick_at is None else (time.time() if now is None else now) - beat.last_tick_at
    doc["age_s"] = age
    doc["stale"] = beat.parked is not None or (
        age is not None and beat.interval_s is not None and age > STALE_INTERVALS * beat.interval_s
    )
    return doc


def last_journal_ts(journal: Path) -> int | None:
    """Exchange time of the journal's last record (the last tick), for countdowns without the network."""
    try:
        with journal.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - (1 << 20)))
            tail = handle.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        ts = json.loads(tail)["ts"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ts if isinstance(ts, int) else None


def pnl_document(state: LadderState, entry_side: str, position: Position | None) -> dict[str, Any]:
    """Bought, sold, averages, fees and realized PnL from the journaled fills; unrealized PnL from OKX."""
    summary = cycle_summary(state, entry_side)
    upl = position.upl if position is not None else (state.position.upl if state.position else None)
    avg_entry = summary.avg_entry
    return {
        **summary.to_dict(),
        "own_open": dec(state.own_open(entry_side)),
        "filled_sz": dec(summary.bought),
        "avg_fill_px": None if avg_entry is None else dec(avg_entry.quantize(Decimal("0.01"))),
        "upl": _opt(upl),
        "mark_px": _opt(position.markPx) if position is not None else None,
        "upl_source": "okx" if position is not None else ("last_tick" if state.position else None),
    }


def next_rows_document(machine: LoadedMachine, state: LadderState, preview: Preview | None) -> dict[str, Any]:
    """The rows that may fire next; with a preview, each guard's value and the row that would fire."""
    if preview is not None:
        doc = preview.to_dict()
        doc["observed"] = True
        return doc
    return {
        "state": state.state,
        "trigger": "tick",
        "fires": None,
        "observed": False,
        "candidates": [
            {
                "index": row.index,
                "line": row.line,
                "dest": row.dest,
                "label": row.label,
                "guards": {g: None for g in row.guards},
                "unless": {g: None for g in row.unless},
                "passes": None,
            }
            for row in machine.spec.rows_from(state.state, "tick")
        ],
    }


def recovery_document(inspection: Inspection | None) -> dict[str, Any]:
    """Whether the journal is ahead of the state file (a crash between the append and the replace)."""
    if inspection is None:
        return {"journal_ahead": False, "state_file_seq": None, "journal_seq": None}
    state_file = inspection.state_file_cursor
    return {
        "journal_ahead": inspection.journal_ahead_by > 0,
        "state_file_seq": None if state_file is None else state_file.seq,
        "journal_seq": None if inspection.journal_end is None else inspection.journal_end.seq,
    }


def status_document(
    machine: LoadedMachine,
    state: LadderState,
    cursor: Mapping[str, Any] | None,
    observation: Observation | None,
    *,
    inspection: Inspection | None = None,
) -> dict[str, Any]:
    """`status`: the state document plus recovery, clock, countdowns, PnL and the next row."""
    doc = state_document(machine.name, state, dict(cursor) if cursor is not None else None)
    doc["recovery"] = recovery_document(inspection)
    now: int | None
    source: str | None
    if observation is not None:
        now, source = observation.now_ms, "exchange"
    else:
        now = last_journal_ts(machine.state_path.with_suffix(".jsonl"))
        source = None if now is None else "last_tick"
    doc["symbol"] = machine.params.symbol
    doc["bar"] = machine.params.bar
    doc["state_file"] = str(machine.state_path)
    doc["clock"] = {
        "now_ms": now,
        "source": source,
        "expiry_in_ms": None if now is None or state.expiry_ts is None else state.expiry_ts - now,
        "exit_due_in_ms": None if now is None or state.exit_due_ts is None else state.exit_due_ts - now,
    }
    doc["pnl"] = pnl_document(state, machine.params.side, observation.position if observation else None)
    doc["next"] = next_rows_document(machine, state, observation.preview if observation else None)
    doc["account"] = observation.account if observation else None
    doc["runner"] = runner_document(machine.state_path)
    doc["queued"] = [request.to_dict() for _, request in spool.pending(machine.state_path)]
    return doc


# --- intent ------------------------------------------------------------------------------------


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
        "signal": None if shadow.signal is None else shadow.signal.to_dict(),
        "cycle_id": shadow.cycle_id,
        "expiry_ts": shadow.expiry_ts,
        "now_ms": view.now_ms(),
        "payloads": payloads,
        "rungs": [{"level": r.level, "clOrdId": r.clOrdId, "state": r.state} for r in shadow.rungs],
        "request": None
        if not payloads
        else {"method": "POST", "path": "/api/v5/trade/batch-orders", "body": payloads},
        "next": next_rows_document(machine, state, preview),
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
        "px": _opt(order.px),
        "sz": dec(order.sz),
        "accFillSz": dec(order.accFillSz),
        "avgPx": _opt(order.avgPx),
        "state": order.state,
        "cTime": order.cTime,
    }


def open_orders_document(
    machine: LoadedMachine, state: LadderState, orders: Sequence[OkxOrder]
) -> dict[str, Any]:
    """OKX's pending orders of the machine's symbol; ours are those whose clOrdId is one of our rungs."""
    rungs = {r.clOrdId: r.level for r in state.rungs}
    prefix = machine.params.cl_ord_id_prefix
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
        "avgPx": _opt(p.avgPx),
        "markPx": _opt(p.markPx),
        "upl": _opt(p.upl),
        "liqPx": _opt(p.liqPx),
    }


def account_document(balance: Balance, positions: Iterable[Position], pos_mode: str) -> dict[str, Any]:
    return {
        "pos_mode": pos_mode,
        "balance": {
            "totalEq": _opt(balance.totalEq),
            "uTime": balance.uTime,
            "details": [
                {
                    "ccy": d.ccy,
                    "eq": _opt(d.eq),
                    "cashBal": _opt(d.cashBal),
                    "availBal": _opt(d.availBal),
                    "frozenBal": _opt(d.frozenBal),
                    "ordFrozen": _opt(d.ordFrozen),
                }
                for d in balance.details
            ],
        },
        "positions": [position_row(p) for p in positions],
    }


# --- history -----------------------------------------------------------------------------------


def summarize(kind: str, data: Mapping[str, Any]) -> str:
    """One line saying what a journal record is about."""
    if kind == "transition":
        return f"{data.get('from')} -> {data.get('to')} (row {data.get('row')})"
    if kind == "order":
        if data.get("update"):
            return f"{data.get('clOrdId')}: {data.get('observation')} (fields updated)"
        return f"{data.get('clOrdId')}: {data.get('from')} -> {data.get('to')} on {data.get('observation')}"
    if kind == "fill":
        ev = data.get("evidence") or {}
        trade = data.get("tradeId")
        return f"{data.get('clOrdId')}: fill {ev.get('fillSz')} @ {ev.get('fillPx')} (tradeId {trade})"
    if kind == "intent":
        return f"rendered {len(data.get('payloads', []))} payloads: " + ", ".join(
            f"{p.get('clOrdId')} {p.get('sz')}@{p.get('px')}" for p in data.get("payloads", [])
        )
    if kind == "submit":
        what = data.get("what")
        if what == "entries":
            return "sending " + ", ".join(str(p.get("clOrdId")) for p in data.get("payloads", []))
        return f"sending {what}"
    if kind == "ack":
        return f"{data.get('what')}: " + str(data.get("outcome") or data.get("code") or "answered")
    if kind == "cancel":
        return "cancel requested for " + ", ".join(data.get("clOrdIds", []))
    if kind == "anomaly":
        return f"{data.get('clOrdId')}: {data.get('observation')} in {data.get('state', '?')}"
    if kind == "archive":
        summary = data.get("summary") or {}
        if not summary:  # archived before cycles carried their results
            return f"cycle {data.get('cycle_id')} archived, filled {data.get('filled_sz')}"
        return (
            f"cycle {data.get('cycle_id')} archived: bought {summary['bought']} @ {summary['avg_entry']}, "
            f"sold {summary['sold']} @ {summary['avg_exit']}, fees {summary['fees']}, "
            f"realized {summary['realized_pnl']} {summary['fee_ccy'] or ''}".rstrip()
        )
    if kind == "operator":
        return f"operator: {data.get('command')}"
    if kind == "observe":
        if "position" in data:
            pos = data["position"]
            return f"position {pos.get('posSide')} {pos.get('pos')}"
        return ", ".join(f"{k}={v}" for k, v in data.items() if k != "evidence")
    return ", ".join(sorted(data))


def mentions(data: Any, needle: str) -> bool:
    """Whether a record's data names `needle` anywhere (a clOrdId, in evidence or payloads)."""
    if isinstance(data, Mapping):
        return any(mentions(v, needle) for v in data.values())
    if isinstance(data, list):
        return any(mentions(v, needle) for v in data)
    return bool(data == needle)


def history_document(machine: LoadedMachine, cl_ord_id: str | None) -> dict[str, Any]:
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
            if cl_ord_id is not None and not mentions(r.data, cl_ord_id):
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
    return {"machine": machine.name, "journal": str(journal), "cl_ord_id": cl_ord_id, "records": records}
