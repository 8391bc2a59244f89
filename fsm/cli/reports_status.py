"""The documents of a machine's state and of `status`, built once and then printed as JSON or as tables.

Every builder returns plain JSON values with stable keys (documented in the README). Builders that
need OKX take an ExchangeView over an unarmed client: nothing here can POST.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange import Position
from fsm.engine import ownership
from fsm.engine.account import ModeRefused, check_leverage, check_tradeable
from fsm.engine.machine import LoadedMachine
from fsm.engine.orders import dec
from fsm.engine.pnl import cycle_summary
from fsm.engine.runtime import Preview
from fsm.engine.state import LadderState
from fsm.engine.tick import preview_tick
from fsm.engine.view import ExchangeView
from fsm.persist import spool
from fsm.persist.store import Inspection
from fsm.report.cycles import CycleScan
from fsm.risk.ledger import read_book
from fsm.spec.model import SpecError


def optional_dec(value: Decimal | None) -> str | None:
    return None if value is None else dec(value)


# --- the state ---------------------------------------------------------------------------------


def rung_rows(state: LadderState) -> list[dict[str, Any]]:
    return [
        {
            "level": r.level,
            "clOrdId": r.clOrdId,
            "ordId": r.ordId,
            "state": r.state,
            "px": format(r.px, "f"),
            "sz": format(r.sz, "f"),
            "accFillSz": format(r.accFillSz, "f"),
            "avgPx": None if r.avgPx is None else format(r.avgPx, "f"),
            "okx_state": r.okx.state,
            "cancelSource": r.okx.cancelSource,
            "reject": r.reject,
            "stray": r.stray,
        }
        for r in state.rungs
    ]


def signal_document(state: LadderState) -> dict[str, Any] | None:
    """The cycle's signal as shown: the reference price (a median of typical prices, kept exact in the
    journal and the state) to the nearest tick of the instrument, once the intent has read it."""
    if state.signal is None:
        return None
    doc = state.signal.to_dict()
    if state.tick_sz is not None:
        doc["ref_px"] = dec((state.signal.ref_px / state.tick_sz).to_integral_value() * state.tick_sz)
    return doc


def state_document(machine: str, state: LadderState, cursor: dict[str, Any] | None) -> dict[str, Any]:
    """The `status --json` core (keys documented in the README)."""
    return {
        "machine": machine,
        "state": state.state,
        "cycle_id": state.cycle_id,
        "cycles_completed": state.cycles_completed,
        "signal": signal_document(state),
        "expiry_ts": state.expiry_ts,
        "entry_start_ts": state.entry_start_ts,
        "exit_due_ts": state.exit_due_ts,
        "rungs": rung_rows(state),
        "fills": [f.to_dict() for f in state.fills],
        "filled_sz": format(state.filled_sz, "f"),
        "position": None if state.position is None else state.position.to_dict(),
        "close_request": None if state.close_request is None else state.close_request.to_dict(),
        "exit_client_order_ids": list(state.exit_client_order_ids),
        "position_anomaly": state.position_anomaly,
        "paused": state.paused,
        "flatten_requested": state.flatten_requested,
        "last_risk_refusal": state.last_risk_refusal,
        "losses_in_a_row": state.losses_in_a_row,
        "cooldown_until_ts": state.cooldown_until_ts,
        "stops": [stop.to_dict() for stop in state.stops],
        "journal": cursor,
    }


# --- status ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """What `status --observe` learnt from OKX: exchange time, the preview, the live position, the last
    price, and whether the account's modes and leverage fit the machine."""

    now_ms: int
    preview: Preview
    position: Position | None
    account: dict[str, Any]
    last_px: Decimal | None = None


def observe_for_status(machine: LoadedMachine, state: LadderState, view: ExchangeView) -> Observation:
    """One round of read-only requests: exchange time, the next row with every guard's value, the
    position, and the last price (the newest candle's close) a stop's distance is measured from."""
    p = machine.params
    preview = preview_tick(machine, view, state)
    candles = view.candles(p.symbol, p.bar, p.signal.lookback_bars + 2)
    return Observation(
        now_ms=view.now_ms(),
        preview=preview,
        position=view.position(p.symbol, ownership.okx_pos_side(p, state)),
        account=account_fit_document(machine, view),
        last_px=max(candles, key=lambda c: c.ts).c if candles else None,
    )


def protection_document(
    machine: LoadedMachine, state: LadderState, last_px: Decimal | None
) -> dict[str, Any]:
    """What protects the machine's own size on OKX: its current stop (algoClOrdId, state, trigger price
    and type, size) and how far the last price is from the trigger; `unprotected` when the machine owns
    size and no working stop of at least that size protects it."""
    p, stop = machine.params, state.stop
    own = state.own_open(p.side)
    working = stop is not None and stop.state in machine.stops.working and stop.sz >= own
    distance = None
    if stop is not None and last_px is not None:
        gap = last_px - stop.slTriggerPx if p.side == "buy" else stop.slTriggerPx - last_px
        distance = {"px": dec(gap), "pct": dec((gap / last_px * 100).quantize(Decimal("0.01")))}
    return {
        "declared": None
        if p.stop is None
        else {
            "loss": dec(p.stop.loss),
            "trigger_px_type": p.stop.trigger_px_type,
            "on_refused": p.stop.on_refused,
        },
        "take_profit": optional_dec(p.take_profit),
        "own_open": dec(own),
        "unprotected": own > 0 and not working,
        "stop": None if stop is None else stop.to_dict(),
        "last_px": optional_dec(last_px),
        "distance": distance,
    }


def account_fit_document(machine: LoadedMachine, view: ExchangeView) -> dict[str, Any]:
    """posMode, acctLv and the instrument's leverage as OKX has them, and whether the machine can trade
    there (`refusal` says why not, before anything is sent): a YAML leverage above the instrument's
    maximum never fits."""
    p = machine.params
    config = view.account_config()
    instrument = view.instrument(p.symbol)
    refusal = None
    try:
        check_tradeable(p.td_mode, config.acctLv)
        check_leverage(machine.spec, p, instrument)
    except (ModeRefused, SpecError) as exc:
        refusal = str(exc)
    levers = {row.posSide or "net": dec(row.lever) for row in view.leverage(p.symbol, p.td_mode)}
    return {
        "posMode": config.posMode,
        "acctLv": config.acctLv,
        "td_mode": p.td_mode,
        "leverage": levers,
        "leverage_wanted": None if p.leverage is None else dec(p.leverage),
        "leverage_max": optional_dec(instrument.lever),
        "refusal": refusal,
    }


STALE_INTERVALS = 3  # a heartbeat older than this many intervals means the runner is not ticking


def runner_document(state_path: Path, now: float | None = None) -> dict[str, Any] | None:
    """The runner's heartbeat for this machine (None when no runner has ticked it), and whether it is
    stale: the machine parked, the runner stopped, or the last tick older than a few intervals."""
    import time

    from fsm.service.heartbeat import Heartbeat, heartbeat_path

    beat = Heartbeat.read(heartbeat_path(state_path))
    if beat is None:
        return None
    doc = beat.to_dict()
    at = time.time() if now is None else now
    age = None if beat.last_tick_wall_s is None else at - beat.last_tick_wall_s
    doc["age_s"] = age
    doc["stale"] = (
        beat.parked is not None
        or beat.stopped_wall_s is not None
        or (age is not None and beat.interval_s is not None and age > STALE_INTERVALS * beat.interval_s)
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
        "upl": optional_dec(upl),
        "mark_px": optional_dec(position.markPx) if position is not None else None,
        "upl_source": "okx" if position is not None else ("last_tick" if state.position else None),
    }


def realized_document(scan: CycleScan, now_ms: int | None) -> dict[str, Any]:
    """Realized PnL (fees included) of the cycles that ended today (UTC, exchange time) and of every
    cycle since the first the journal holds: the report's numbers, from the journaled fills."""
    from fsm.report.stats import realized

    r = realized(scan.cycles(), now_ms)
    return {
        "day": r.day,
        "today": dec(r.today),
        "cycles_today": r.cycles_today,
        "total": dec(r.total),
        "cycles": r.cycles,
        "since_ts": r.since_ts,
        "fee_ccy": r.fee_ccy,
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
    spec_changed_from: str | None = None,
    scan: CycleScan | None = None,
) -> dict[str, Any]:
    """`status`: the state document plus whether any state exists, a changed spec, recovery, clock,
    countdowns, PnL and the next row. `scan` reads the journal's finished cycles (watch keeps one
    across refreshes)."""
    doc = state_document(machine.name, state, dict(cursor) if cursor is not None else None)
    doc["exists"] = inspection is not None and (
        inspection.state_file_cursor is not None or inspection.journal_end is not None
    )
    doc["spec_change"] = (
        None
        if spec_changed_from is None
        else {"state_spec_hash": spec_changed_from, "yaml_spec_hash": machine.spec.spec_hash}
    )
    doc["recovery"] = recovery_document(inspection)
    now: int | None
    source: str | None
    journal = machine.state_path.with_suffix(".jsonl")
    if observation is not None:
        now, source = observation.now_ms, "exchange"
    else:
        now = last_journal_ts(journal)
        source = None if now is None else "last_tick"
    doc["trading"] = read_book(machine.state_path.parent).trading.to_dict()  # the account's
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
    doc["realized"] = realized_document(scan or CycleScan(journal), now)
    doc["protection"] = protection_document(machine, state, observation.last_px if observation else None)
    doc["next"] = next_rows_document(machine, state, observation.preview if observation else None)
    doc["account"] = observation.account if observation else None
    doc["runner"] = runner_document(machine.state_path)
    doc["queued"] = [request.to_dict() for _, request in spool.pending(machine.state_path)]
    return doc
