"""The typed state of one ladder machine, as the state file and every journal record hold it.

Fields the bot owns (ladder state, rung level, chosen price and size, clOrdId, timers) are kept apart
from fields mirrored from OKX, which keep OKX's own names (ordId, accFillSz, avgPx, tradeId, ...).
Money is Decimal in memory and a plain decimal string on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fsm.engine.orders import CloseOrder, Fill, PositionMirror, Rung, StopOrder, dec, opt_dec, to_opt_dec

_OLD_EXIT_IDS = "exit_cl_ord_ids"  # how snapshots written before 2026-12-02 spell exit_client_order_ids


@dataclass
class Signal:
    """The accepted entry signal of the current cycle."""

    provider: str
    candle_ts: int  # open time of the signal candle (ms, exchange time)
    close_ts: int  # close time of the signal candle
    ref_px: Decimal
    close: Decimal
    lookback: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "candle_ts": self.candle_ts,
            "close_ts": self.close_ts,
            "ref_px": dec(self.ref_px),
            "close": dec(self.close),
            "lookback": self.lookback,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Signal:
        return cls(
            provider=str(d["provider"]),
            candle_ts=int(d["candle_ts"]),
            close_ts=int(d["close_ts"]),
            ref_px=Decimal(d["ref_px"]),
            close=Decimal(d["close"]),
            lookback=int(d["lookback"]),
        )


@dataclass
class LadderState:
    """Everything the engine knows about one ladder machine between ticks."""

    state: str  # ladder-machine state (the machine's YAML); a fresh machine starts in its initial
    cycle_id: str | None = None
    cycles_completed: int = 0
    last_evaluated_candle_ts: int | None = None  # newest confirmed candle the signal has looked at
    last_signal_candle_ts: int | None = None  # candle of the last accepted signal
    signal: Signal | None = None
    expiry_ts: int | None = None
    entry_start_ts: int | None = None
    exit_due_ts: int | None = None
    last_cancel_ts: int | None = None
    close_request: CloseOrder | None = None
    exit_client_order_ids: list[str] = field(default_factory=list)  # every exit attempt of the cycle
    fills_cursor: str | None = None  # highest billId seen for this machine's symbol
    fills_cursor_ts: int | None = None  # ts of that fill: where the next fills read begins
    pos_mode: str | None = None  # the account's posMode when the cycle began (net_mode / long_short_mode)
    ct_val: Decimal | None = None  # the instrument's contract value, for PnL in the settle currency
    tick_sz: Decimal | None = None  # the instrument's price tick, for showing prices (the reference's)
    archived_cycle_id: str | None = None  # the cycle whose archive record is journaled (never twice)
    position_anomaly: str | None = None  # the last position shortfall journaled (journaled once)
    paused: bool = False  # the operator's pause: no new cycle starts; working orders are left as they are
    flatten_requested: bool = False  # the operator's flatten: cancel every working rung, exit our own
    operator_done: list[str] = field(default_factory=list)  # ids of spooled requests carried out
    last_risk_refusal: dict[str, Any] | None = None  # the hard limits' last refusal (the `risk` record)
    losses_in_a_row: int = 0  # archived cycles in a row whose realized PnL was below 0 (since a cooldown)
    cooldown_until_ts: int | None = None  # exchange time until which no new cycle starts (a `cooldown`)
    rungs: list[Rung] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    position: PositionMirror | None = None
    stops: list[StopOrder] = field(default_factory=list)  # every placement of the cycle's stop, in order

    # --- derived views used by guards and displays -------------------------------------------
    @property
    def filled_sz(self) -> Decimal:
        return sum((r.accFillSz for r in self.rungs), Decimal("0"))

    def rung_by_client_order_id(self, client_order_id: str) -> Rung | None:
        return next((r for r in self.rungs if r.clOrdId == client_order_id), None)

    @property
    def stop(self) -> StopOrder | None:
        """The cycle's current stop: its latest placement (None before the first)."""
        return self.stops[-1] if self.stops else None

    def stop_child_order_ids(self) -> set[str]:
        """The ordIds of the orders OKX placed when a stop of this cycle fired: their fills are ours."""
        return {child for stop in self.stops for child in stop.okx.ordIdList}

    def own_client_order_ids(self) -> set[str]:
        """Every clOrdId of this cycle's orders, entries and exits: the fills this machine owns."""
        return {r.clOrdId for r in self.rungs} | set(self.exit_client_order_ids)

    def bought_and_sold(self, entry_side: str) -> tuple[Decimal, Decimal]:
        """Contracts this cycle's own fills entered and exited (entry side, and the other side)."""
        entered = sum((f.fillSz for f in self.fills if f.side == entry_side), Decimal("0"))
        exited = sum((f.fillSz for f in self.fills if f.side != entry_side), Decimal("0"))
        return entered, exited

    def own_open(self, entry_side: str) -> Decimal:
        """What this machine's own fills still hold (never below zero)."""
        entered, exited = self.bought_and_sold(entry_side)
        return max(entered - exited, Decimal("0"))

    def known_trade_ids(self) -> set[str]:
        return {f.tradeId for f in self.fills}

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "cycle_id": self.cycle_id,
            "cycles_completed": self.cycles_completed,
            "last_evaluated_candle_ts": self.last_evaluated_candle_ts,
            "last_signal_candle_ts": self.last_signal_candle_ts,
            "signal": None if self.signal is None else self.signal.to_dict(),
            "expiry_ts": self.expiry_ts,
            "entry_start_ts": self.entry_start_ts,
            "exit_due_ts": self.exit_due_ts,
            "last_cancel_ts": self.last_cancel_ts,
            "close_request": None if self.close_request is None else self.close_request.to_dict(),
            "exit_client_order_ids": list(self.exit_client_order_ids),
            "fills_cursor": self.fills_cursor,
            "fills_cursor_ts": self.fills_cursor_ts,
            "pos_mode": self.pos_mode,
            "ct_val": opt_dec(self.ct_val),
            "tick_sz": opt_dec(self.tick_sz),
            "archived_cycle_id": self.archived_cycle_id,
            "position_anomaly": self.position_anomaly,
            "paused": self.paused,
            "flatten_requested": self.flatten_requested,
            "operator_done": list(self.operator_done),
            "last_risk_refusal": self.last_risk_refusal,
            "losses_in_a_row": self.losses_in_a_row,
            "cooldown_until_ts": self.cooldown_until_ts,
            "rungs": [r.to_dict() for r in self.rungs],
            "fills": [f.to_dict() for f in self.fills],
            "position": None if self.position is None else self.position.to_dict(),
            "stops": [stop.to_dict() for stop in self.stops],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LadderState:
        return cls(
            state=str(d["state"]),
            cycle_id=d.get("cycle_id"),
            cycles_completed=int(d.get("cycles_completed", 0)),
            last_evaluated_candle_ts=d.get("last_evaluated_candle_ts"),
            last_signal_candle_ts=d.get("last_signal_candle_ts"),
            signal=None if d.get("signal") is None else Signal.from_dict(d["signal"]),
            expiry_ts=d.get("expiry_ts"),
            entry_start_ts=d.get("entry_start_ts"),
            exit_due_ts=d.get("exit_due_ts"),
            last_cancel_ts=d.get("last_cancel_ts"),
            close_request=None
            if d.get("close_request") is None
            else CloseOrder.from_dict(d["close_request"]),
            exit_client_order_ids=[str(x) for x in d.get("exit_client_order_ids", d.get(_OLD_EXIT_IDS, []))],
            fills_cursor=d.get("fills_cursor"),
            fills_cursor_ts=d.get("fills_cursor_ts"),
            pos_mode=d.get("pos_mode"),
            ct_val=to_opt_dec(d.get("ct_val")),
            tick_sz=to_opt_dec(d.get("tick_sz")),
            archived_cycle_id=d.get("archived_cycle_id"),
            position_anomaly=d.get("position_anomaly"),
            paused=bool(d.get("paused", False)),
            flatten_requested=bool(d.get("flatten_requested", False)),
            operator_done=[str(x) for x in d.get("operator_done", [])],
            last_risk_refusal=d.get("last_risk_refusal"),
            losses_in_a_row=int(d.get("losses_in_a_row", 0)),
            cooldown_until_ts=d.get("cooldown_until_ts"),
            rungs=[Rung.from_dict(r) for r in d.get("rungs", [])],
            fills=[Fill.from_dict(f) for f in d.get("fills", [])],
            position=None if d.get("position") is None else PositionMirror.from_dict(d["position"]),
            stops=[StopOrder.from_dict(stop) for stop in d.get("stops", [])],
        )
