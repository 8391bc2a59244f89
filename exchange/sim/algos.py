"""Algo orders as the simulator keeps them: OKX's TP/SL orders (`conditional` one-way, `oco` two-way), the
rules that fire them and refuse them, and their OKX rendering.

A leg (stop-loss `sl` or take-profit `tp`) watches one price (`last`, `mark` or `index`). A sell's
stop-loss fires when that price is at or below its trigger, a sell's take-profit at or above it; a buy's
the other way round. A leg whose trigger is already past the price it watches is refused when placed or
amended, with OKX's code for that price type (51277-51280 last, 51300-51308 mark and index; OKX has no
51301). At the trigger price itself it is accepted, and fires at the next market step or price set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .decimals import fmt
from .instruments import Instrument

LIVE = "live"
EFFECTIVE = "effective"  # fired: its child order was placed
CANCELED = "canceled"
ORDER_FAILED = "order_failed"  # fired, but its child order was refused (failCode says why)
ENDED_STATES = (EFFECTIVE, CANCELED, ORDER_FAILED)
ORD_TYPES = ("conditional", "oco")  # the ones the simulator models
OTHER_ORD_TYPES = ("trigger", "move_order_stop", "twap", "iceberg", "smart_iceberg", "chase")
MARKET = Decimal(-1)  # an order price of -1: the leg executes at market
SL, TP = "sl", "tp"

# (leg kind, side, price type) -> code when the trigger is already past that price
_PAST: dict[tuple[str, str, str], str] = {
    (TP, "buy", "last"): "51277",
    (SL, "buy", "last"): "51278",
    (TP, "sell", "last"): "51279",
    (SL, "sell", "last"): "51280",
    (TP, "buy", "mark"): "51300",
    (SL, "buy", "mark"): "51302",
    (TP, "sell", "mark"): "51303",
    (SL, "sell", "mark"): "51304",
    (TP, "buy", "index"): "51305",
    (SL, "buy", "index"): "51306",
    (TP, "sell", "index"): "51307",
    (SL, "sell", "index"): "51308",
}


@dataclass(frozen=True)
class Leg:
    """One leg of a TP/SL: fires when its price type reaches `trigger_px`, then orders at `ord_px`."""

    kind: str  # SL or TP
    trigger_px: Decimal
    ord_px: Decimal  # MARKET, or a limit price
    px_type: str  # last, mark or index

    def reached(self, side: str, px: Decimal) -> bool:
        falling = (self.kind == SL) == (side == "sell")
        return px <= self.trigger_px if falling else px >= self.trigger_px

    def refusal(self, side: str, px: Decimal) -> str | None:
        """The code refusing this leg while its price type is at `px`, or None when it may rest."""
        if self.reached(side, px) and px != self.trigger_px:
            return _PAST[(self.kind, side, self.px_type)]
        return None


@dataclass(frozen=True)
class AttachedStop:
    """A TP/SL attached to an order (attachAlgoOrds): created as an algo once the order fills completely."""

    client_id: str  # attachAlgoClOrdId: the algo's algoClOrdId
    legs: tuple[Leg, ...]

    def to_okx(self) -> dict[str, Any]:
        legs = {**_leg_fields(self.legs, SL), **_leg_fields(self.legs, TP)}
        return {"attachAlgoClOrdId": self.client_id, **legs}


@dataclass
class Algo:
    inst: Instrument
    algo_id: str
    client_id: str  # algoClOrdId
    ord_type: str
    side: str
    pos_side: str  # long, short or net, as the position it acts on
    td_mode: str
    sz: Decimal | None  # None when it closes the whole position (closeFraction "1")
    reduce_only: bool
    legs: tuple[Leg, ...]
    tag: str
    lever: Decimal
    last_px: Decimal  # the last price when it was placed
    c_time: int
    u_time: int
    cxl_on_close_pos: bool = False
    state: str = LIVE
    ord_ids: list[str] = field(default_factory=list)  # its child order, once fired
    actual_sz: Decimal | None = None
    actual_px: Decimal | None = None  # the child's price: None for a market child
    actual_side: str = ""  # the leg that fired: sl or tp
    trigger_time: int | None = None
    fail_code: str = ""
    req_id: str = ""  # of its last amend (pushed on the WebSocket channel)
    amend_result: str = ""  # "0" amended, "-1" refused (pushed on the WebSocket channel)

    @property
    def live(self) -> bool:
        return self.state == LIVE

    def watched(self) -> tuple[Leg, ...]:
        """The legs that can fire: a net-mode `conditional` with both legs keeps only its stop-loss (OKX's
        place-algo-order note: the take-profit is ignored)."""
        if self.ord_type == "conditional" and self.pos_side == "net" and len(self.legs) > 1:
            return tuple(leg for leg in self.legs if leg.kind == SL)
        return self.legs

    def firing(self, prices: Mapping[str, Decimal]) -> Leg | None:
        """The leg the prices (by type) have reached, if any; the stop-loss first."""
        legs = sorted(self.watched(), key=lambda leg: leg.kind != SL)
        return next((leg for leg in legs if leg.reached(self.side, prices[leg.px_type])), None)

    def to_okx(self) -> dict[str, Any]:
        return {
            "activePx": "",
            "actualPx": "" if self.actual_px is None else fmt(self.actual_px),
            "actualSide": self.actual_side,
            "actualSz": "0" if self.actual_sz is None else fmt(self.actual_sz),
            "algoClOrdId": self.client_id,
            "algoId": self.algo_id,
            "amendPxOnTriggerType": "0",
            "attachAlgoOrds": [],
            "cTime": str(self.c_time),
            "callbackRatio": "",
            "callbackSpread": "",
            "ccy": "",
            "clOrdId": "",
            "closeFraction": "1" if self.sz is None else "",
            "failCode": self.fail_code,
            "instId": self.inst.inst_id,
            "instType": "SWAP",
            "isTradeBorrowMode": "",
            "last": fmt(self.last_px),
            "lever": fmt(self.lever),
            "linkedOrd": {"ordId": ""},
            "moveTriggerPx": "",
            "ordId": self.ord_ids[-1] if self.ord_ids else "",  # OKX's deprecated "latest order ID"
            "ordIdList": list(self.ord_ids),
            "ordPx": "",
            "ordType": self.ord_type,
            "posSide": self.pos_side,
            "quickMgnType": "",
            "reduceOnly": "true" if self.reduce_only else "false",
            "side": self.side,
            **_leg_fields(self.legs, SL),
            "state": self.state,
            "sz": "" if self.sz is None else fmt(self.sz),
            "tag": self.tag,
            "tdMode": self.td_mode,
            "tgtCcy": "",
            "timeInterval": "",
            **_leg_fields(self.legs, TP),
            "tradeQuoteCcy": "",
            "triggerPx": "",
            "triggerPxType": "",
            "triggerTime": "" if self.trigger_time is None else str(self.trigger_time),
            "uTime": str(self.u_time),
        }


def _leg_fields(legs: tuple[Leg, ...], kind: str) -> dict[str, str]:
    """`<kind>TriggerPx`, `<kind>OrdPx` and `<kind>TriggerPxType` of the `kind` leg ("" without one)."""
    leg = next((leg for leg in legs if leg.kind == kind), None)
    return {
        f"{kind}OrdPx": "" if leg is None else fmt(leg.ord_px),
        f"{kind}TriggerPx": "" if leg is None else fmt(leg.trigger_px),
        f"{kind}TriggerPxType": "" if leg is None else leg.px_type,
    }
