"""Orders and fills as the simulator keeps them, rendered as OKX order and fill objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .decimals import fmt
from .instruments import Instrument

if TYPE_CHECKING:
    from .algos import AttachedStop

PENDING_STATES = ("live", "partially_filled")

# Fill subType codes for SWAP: open/close long/short in long/short mode, plain buy/sell in net mode.
_SUB_TYPE = {
    ("buy", "long"): "3",
    ("sell", "short"): "4",
    ("sell", "long"): "5",
    ("buy", "short"): "6",
    ("buy", "net"): "1",
    ("sell", "net"): "2",
}


# Fill fields a captured answer left out altogether, though they have values (facts sheet section 13).
FILL_FIELDS_SOMETIMES_ABSENT = frozenset({"subType", "tradeQuoteCcy"})


def without_empty(obj: dict[str, Any], also: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`obj` as some OKX answers show it: fields that would be "" (and those in `also`) left out."""
    return {k: v for k, v in obj.items() if v != "" and k not in also}


def closes(side: str, pos_side: str) -> bool:
    """In long/short mode an order against its posSide's direction closes (and is reduce-only)."""
    return (side, pos_side) in (("sell", "long"), ("buy", "short"))


@dataclass
class Fill:
    inst: Instrument
    trade_id: str
    bill_id: str
    ord_id: str
    client_order_id: str
    tag: str
    px: Decimal
    sz: Decimal
    side: str
    pos_side: str
    exec_type: str  # "M" maker, "T" taker
    fee: Decimal  # negative = charged
    pnl: Decimal
    ts: int

    def to_okx(self, leave_out_empty: bool = False) -> dict[str, Any]:
        """The fill as GET /trade/fills shows it; `leave_out_empty`: in the form without empty fields."""
        obj = {
            "billId": self.bill_id,
            "clOrdId": self.client_order_id,
            "execType": self.exec_type,
            "fee": fmt(self.fee),
            "feeCcy": "USDT",
            "feeRate": "",
            "fillFwdPx": "",
            "fillIdxPx": fmt(self.px),
            "fillMarkPx": fmt(self.px),
            "fillMarkVol": "",
            "fillPnl": fmt(self.pnl),
            "fillPx": fmt(self.px),
            "fillPxUsd": "",
            "fillPxVol": "",
            "fillSz": fmt(self.sz),
            "fillTime": str(self.ts),
            "instId": self.inst.inst_id,
            "instType": "SWAP",
            "ordId": self.ord_id,
            "posSide": self.pos_side,
            "side": self.side,
            "subType": _SUB_TYPE[(self.side, self.pos_side)],
            "tag": self.tag,
            "tradeId": self.trade_id,
            "tradeQuoteCcy": "",
            "ts": str(self.ts),
        }
        return without_empty(obj, FILL_FIELDS_SOMETIMES_ABSENT) if leave_out_empty else obj


@dataclass
class Order:
    inst: Instrument
    ord_id: str
    client_order_id: str
    tag: str
    side: str
    pos_side: str
    ord_type: str
    td_mode: str
    px: Decimal | None
    sz: Decimal
    lever: Decimal
    c_time: int
    u_time: int
    state: str = "live"
    acc_fill_sz: Decimal = Decimal(0)
    fill_value: Decimal = Decimal(0)  # sum of fillPx * fillSz, for avgPx
    fee: Decimal = Decimal(0)
    pnl: Decimal = Decimal(0)
    frozen: Decimal = Decimal(0)  # margin still frozen for the unfilled part of an opening order
    reduce_only: bool = False  # closing orders in long/short mode; reduceOnly=true ones in net mode
    cancel_source: str = ""
    last_fill: Fill | None = field(default=None, repr=False)
    algo_id: str = ""  # an algo's child order: the algo that placed it
    algo_client_id: str = ""
    attached: tuple[AttachedStop, ...] = ()  # TP/SL to create once it fills completely

    @property
    def remaining(self) -> Decimal:
        return self.sz - self.acc_fill_sz

    @property
    def pending(self) -> bool:
        return self.state in PENDING_STATES

    @property
    def avg_px(self) -> Decimal | None:
        return self.fill_value / self.acc_fill_sz if self.acc_fill_sz else None

    def to_okx(self, leave_out_empty: bool = False) -> dict[str, Any]:
        """The order as GET /trade/order shows it; `leave_out_empty`: in the form without empty fields."""
        last = self.last_fill
        avg = self.avg_px
        obj = {
            "accFillSz": fmt(self.acc_fill_sz),
            "algoClOrdId": self.algo_client_id,
            "algoId": self.algo_id,
            "attachAlgoClOrdId": self.attached[0].client_id if self.attached else "",
            "attachAlgoOrds": [stop.to_okx() for stop in self.attached],
            "avgPx": "" if avg is None else fmt(avg),
            "cTime": str(self.c_time),
            "cancelSource": self.cancel_source,
            "cancelSourceReason": "",
            "category": "normal",
            "ccy": "",
            "clOrdId": self.client_order_id,
            "fee": fmt(self.fee),
            "feeCcy": "USDT",
            "fillPx": "" if last is None else fmt(last.px),
            "fillSz": "0" if last is None else fmt(last.sz),
            "fillTime": "" if last is None else str(last.ts),
            "instId": self.inst.inst_id,
            "instType": "SWAP",
            "isTpLimit": "false",
            "lever": fmt(self.lever),
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": self.ord_id,
            "ordType": self.ord_type,
            "pnl": fmt(self.pnl),
            "posSide": self.pos_side,
            "px": "" if self.px is None else fmt(self.px),
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": "USDT",
            "reduceOnly": "true" if self.reduce_only else "false",
            "side": self.side,
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": self.state,
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": fmt(self.sz),
            "tag": self.tag,
            "tdMode": self.td_mode,
            "tgtCcy": "",
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": "" if last is None else last.trade_id,
            "tradeQuoteCcy": "",
            "uTime": str(self.u_time),
        }
        return without_empty(obj) if leave_out_empty else obj


class IdSource:
    """Increasing ids: 19-digit ordId/billId/posId that start with the ms time, and plain tradeIds."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}
        self._trade = 400_000_000

    def timed(self, kind: str, now_ms: int) -> str:
        value = max(self._last.get(kind, 0) + 1, now_ms * 1_000_000)
        self._last[kind] = value
        return str(value)

    def trade_id(self) -> str:
        self._trade += 1
        return str(self._trade)
