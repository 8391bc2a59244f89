"""The typed state of one ladder machine, as the state file and every journal record hold it.

Fields the bot owns (ladder state, rung level, chosen price and size, clOrdId, timers) are kept apart
from fields mirrored from OKX, which keep OKX's own names (ordId, accFillSz, avgPx, tradeId, ...).
Money is Decimal in memory and a plain decimal string on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from exchange.states import OKX_ENDED_STATES

SCHEMA_VERSION = 1


def dec(value: Decimal) -> str:
    """A Decimal as OKX writes it: no exponent."""
    return format(value, "f")


def _opt_dec(value: Decimal | None) -> str | None:
    return None if value is None else dec(value)


def _to_opt_dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


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
class OkxMirror:
    """What OKX last showed for one order (OKX field names)."""

    ordId: str | None = None
    state: str | None = None
    accFillSz: Decimal = Decimal("0")
    avgPx: Decimal | None = None
    fillSz: Decimal | None = None
    tradeId: str | None = None
    cancelSource: str | None = None
    uTime: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ordId": self.ordId,
            "state": self.state,
            "accFillSz": dec(self.accFillSz),
            "avgPx": _opt_dec(self.avgPx),
            "fillSz": _opt_dec(self.fillSz),
            "tradeId": self.tradeId,
            "cancelSource": self.cancelSource,
            "uTime": self.uTime,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OkxMirror:
        return cls(
            ordId=d.get("ordId"),
            state=d.get("state"),
            accFillSz=Decimal(d.get("accFillSz", "0")),
            avgPx=_to_opt_dec(d.get("avgPx")),
            fillSz=_to_opt_dec(d.get("fillSz")),
            tradeId=d.get("tradeId"),
            cancelSource=d.get("cancelSource"),
            uTime=d.get("uTime"),
        )


@dataclass
class Rung:
    """One entry order of the ladder: the bot's plan and order-machine state, plus the OKX mirror."""

    level: int
    clOrdId: str
    px: Decimal
    sz: Decimal
    state: str  # order-machine state (machines/okx_order.yaml)
    attempt: int = 0
    payload: dict[str, str] = field(default_factory=dict)
    submit_ts: int | None = None
    exp_time_ms: int | None = None  # the expTime deadline of the last place request (exchange ms)
    cancel_sent_ts: int | None = None
    reject: dict[str, str] | None = None  # {"sCode", "sMsg"} of an explicit rejection
    last_anomaly: str | None = None  # the last anomaly journaled for this rung (journaled once)
    stray: bool = False  # OKX shows the order working although the rung holds it as ended
    okx: OkxMirror = field(default_factory=OkxMirror)

    @property
    def ordId(self) -> str | None:
        return self.okx.ordId

    @property
    def accFillSz(self) -> Decimal:
        return self.okx.accFillSz

    @property
    def avgPx(self) -> Decimal | None:
        return self.okx.avgPx

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "clOrdId": self.clOrdId,
            "px": dec(self.px),
            "sz": dec(self.sz),
            "state": self.state,
            "attempt": self.attempt,
            "payload": dict(self.payload),
            "submit_ts": self.submit_ts,
            "exp_time_ms": self.exp_time_ms,
            "cancel_sent_ts": self.cancel_sent_ts,
            "reject": None if self.reject is None else dict(self.reject),
            "last_anomaly": self.last_anomaly,
            "stray": self.stray,
            "okx": self.okx.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rung:
        return cls(
            level=int(d["level"]),
            clOrdId=str(d["clOrdId"]),
            px=Decimal(d["px"]),
            sz=Decimal(d["sz"]),
            state=str(d["state"]),
            attempt=int(d.get("attempt", 0)),
            payload={str(k): str(v) for k, v in d.get("payload", {}).items()},
            submit_ts=d.get("submit_ts"),
            exp_time_ms=d.get("exp_time_ms"),
            cancel_sent_ts=d.get("cancel_sent_ts"),
            reject=None if d.get("reject") is None else {str(k): str(v) for k, v in d["reject"].items()},
            last_anomaly=d.get("last_anomaly"),
            stray=bool(d.get("stray", False)),
            okx=OkxMirror.from_dict(d.get("okx", {})),
        )


@dataclass(frozen=True)
class Fill:
    """One OKX fill of one of our rungs (OKX field names; deduplicated by tradeId)."""

    tradeId: str
    billId: str
    ordId: str
    clOrdId: str | None
    fillPx: Decimal
    fillSz: Decimal
    fee: Decimal
    feeCcy: str
    fillTime: int
    side: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "tradeId": self.tradeId,
            "billId": self.billId,
            "ordId": self.ordId,
            "clOrdId": self.clOrdId,
            "fillPx": dec(self.fillPx),
            "fillSz": dec(self.fillSz),
            "fee": dec(self.fee),
            "feeCcy": self.feeCcy,
            "fillTime": self.fillTime,
            "side": self.side,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Fill:
        return cls(
            tradeId=str(d["tradeId"]),
            billId=str(d["billId"]),
            ordId=str(d["ordId"]),
            clOrdId=d.get("clOrdId"),
            fillPx=Decimal(d["fillPx"]),
            fillSz=Decimal(d["fillSz"]),
            fee=Decimal(d["fee"]),
            feeCcy=str(d["feeCcy"]),
            fillTime=int(d["fillTime"]),
            side=str(d["side"]),
        )


@dataclass
class PositionMirror:
    """The OKX position of the machine's symbol and posSide, as last observed."""

    instId: str
    posSide: str
    pos: Decimal
    avgPx: Decimal | None
    upl: Decimal | None
    uTime: int | None
    observed_ts: int  # exchange time of the observation (bot-owned)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instId": self.instId,
            "posSide": self.posSide,
            "pos": dec(self.pos),
            "avgPx": _opt_dec(self.avgPx),
            "upl": _opt_dec(self.upl),
            "uTime": self.uTime,
            "observed_ts": self.observed_ts,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PositionMirror:
        return cls(
            instId=str(d["instId"]),
            posSide=str(d["posSide"]),
            pos=Decimal(d["pos"]),
            avgPx=_to_opt_dec(d.get("avgPx")),
            upl=_to_opt_dec(d.get("upl")),
            uTime=d.get("uTime"),
            observed_ts=int(d["observed_ts"]),
        )


@dataclass
class CloseOrder:
    """The cycle's exit: a reduce-only market order for what this machine's own fills hold.

    Bot-owned: who asked and when, the attempt (each attempt has its own deterministic clOrdId), the
    size and deadline sent. Mirrored: `okx`, what OKX last showed of the attempt's order.
    """

    requested_by: str  # "exit" (hold time up) or "operator"
    requested_ts: int
    clOrdId: str
    sent_ts: int | None = None
    outcome: str | None = None  # "accepted", "rejected:<code>", "ambiguous"
    attempt: int = 0
    sz: Decimal | None = None
    exp_time_ms: int | None = None
    okx: OkxMirror = field(default_factory=OkxMirror)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested_by": self.requested_by,
            "requested_ts": self.requested_ts,
            "clOrdId": self.clOrdId,
            "sent_ts": self.sent_ts,
            "outcome": self.outcome,
            "attempt": self.attempt,
            "sz": _opt_dec(self.sz),
            "exp_time_ms": self.exp_time_ms,
            "okx": self.okx.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CloseOrder:
        return cls(
            requested_by=str(d["requested_by"]),
            requested_ts=int(d["requested_ts"]),
            clOrdId=str(d["clOrdId"]),
            sent_ts=d.get("sent_ts"),
            outcome=d.get("outcome"),
            attempt=int(d.get("attempt", 0)),
            sz=_to_opt_dec(d.get("sz")),
            exp_time_ms=d.get("exp_time_ms"),
            okx=OkxMirror.from_dict(d.get("okx", {})),
        )

    @property
    def terminal_on_okx(self) -> bool:
        return self.okx.state in OKX_ENDED_STATES


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
    exit_cl_ord_ids: list[str] = field(default_factory=list)  # every exit attempt of the cycle
    fills_cursor: str | None = None  # highest billId seen for this machine's symbol
    fills_cursor_ts: int | None = None  # ts of that fill: where the next fills read begins
    pos_mode: str | None = None  # the account's posMode when the cycle began (net_mode / long_short_mode)
    ct_val: Decimal | None = None  # the instrument's contract value, for PnL in the settle currency
    archived_cycle_id: str | None = None  # the cycle whose archive record is journaled (never twice)
    position_anomaly: str | None = None  # the last position shortfall journaled (journaled once)
    paused: bool = False  # the operator's pause: no new cycle starts; working orders are left as they are
    flatten_requested: bool = False  # the operator's flatten: cancel every working rung, exit our own
    operator_done: list[str] = field(default_factory=list)  # ids of spooled requests carried out
    rungs: list[Rung] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    position: PositionMirror | None = None

    # --- derived views used by guards and displays -------------------------------------------
    @property
    def filled_sz(self) -> Decimal:
        return sum((r.accFillSz for r in self.rungs), Decimal("0"))

    def rung_by_cl_ord_id(self, cl_ord_id: str) -> Rung | None:
        return next((r for r in self.rungs if r.clOrdId == cl_ord_id), None)

    def own_cl_ord_ids(self) -> set[str]:
        """Every clOrdId of this cycle's orders, entries and exits: the fills this machine owns."""
        return {r.clOrdId for r in self.rungs} | set(self.exit_cl_ord_ids)

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
            "exit_cl_ord_ids": list(self.exit_cl_ord_ids),
            "fills_cursor": self.fills_cursor,
            "fills_cursor_ts": self.fills_cursor_ts,
            "pos_mode": self.pos_mode,
            "ct_val": _opt_dec(self.ct_val),
            "archived_cycle_id": self.archived_cycle_id,
            "position_anomaly": self.position_anomaly,
            "paused": self.paused,
            "flatten_requested": self.flatten_requested,
            "operator_done": list(self.operator_done),
            "rungs": [r.to_dict() for r in self.rungs],
            "fills": [f.to_dict() for f in self.fills],
            "position": None if self.position is None else self.position.to_dict(),
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
            exit_cl_ord_ids=[str(x) for x in d.get("exit_cl_ord_ids", [])],
            fills_cursor=d.get("fills_cursor"),
            fills_cursor_ts=d.get("fills_cursor_ts"),
            pos_mode=d.get("pos_mode"),
            ct_val=_to_opt_dec(d.get("ct_val")),
            archived_cycle_id=d.get("archived_cycle_id"),
            position_anomaly=d.get("position_anomaly"),
            paused=bool(d.get("paused", False)),
            flatten_requested=bool(d.get("flatten_requested", False)),
            operator_done=[str(x) for x in d.get("operator_done", [])],
            rungs=[Rung.from_dict(r) for r in d.get("rungs", [])],
            fills=[Fill.from_dict(f) for f in d.get("fills", [])],
            position=None if d.get("position") is None else PositionMirror.from_dict(d["position"]),
        )
