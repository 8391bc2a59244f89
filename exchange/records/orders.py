"""Order records: an order, a fill, the ack of a place or cancel, Cancel All After's answer, and their
parsers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exchange.records.fields import Fields, raw_field

# OKX's own words for an order's `state` and why it was canceled (`cancelSource`), mirrored as OKX
# sends them; the engine's order machine names its own states in machines/okx_order.yaml.
OKX_CANCELED = "canceled"
OKX_CANCELED_STATES = frozenset({OKX_CANCELED, "mmp_canceled"})  # mmp: market-maker protection
OKX_ENDED_STATES = frozenset({"filled", *OKX_CANCELED_STATES})
OKX_PENDING_STATES = frozenset({"live", "partially_filled"})  # resting on the book
ORDER_STATES = frozenset({*OKX_PENDING_STATES, *OKX_ENDED_STATES})
POST_ONLY_CANCEL_SOURCE = "31"  # canceled because a post-only order would have taken liquidity
SIDES = frozenset({"buy", "sell"})


@dataclass(frozen=True)
class OkxOrder:
    """An order as GET order / orders-pending show it (fill fields describe the most recent fill)."""

    instId: str
    ordId: str
    clOrdId: str | None
    tag: str | None  # the order's tag: what a tag-level Cancel All After covers
    px: Decimal | None
    sz: Decimal
    ordType: str
    side: str
    posSide: str | None
    tdMode: str
    state: str
    accFillSz: Decimal
    avgPx: Decimal | None
    fillPx: Decimal | None
    fillSz: Decimal | None
    fillTime: int | None
    tradeId: str | None
    fee: Decimal | None
    feeCcy: str | None
    cancelSource: str | None
    reduceOnly: bool
    algoId: str | None  # set on an algo's child order: the algo that placed it
    algoClOrdId: str | None
    cTime: int
    uTime: int
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class OkxFill:
    """One execution from GET /trade/fills (billId is the paging cursor)."""

    instId: str
    tradeId: str
    ordId: str
    clOrdId: str | None
    billId: str
    fillPx: Decimal
    fillSz: Decimal
    side: str
    posSide: str | None
    execType: str | None
    fee: Decimal
    feeCcy: str
    fillTime: int
    ts: int
    raw: Mapping[str, Any] = raw_field()


@dataclass(frozen=True)
class OkxOrderAck:
    """One item of a trade endpoint's answer (place, cancel, and their algo twins). sCode "0" means
    accepted, not filled or canceled. The algo endpoints' items carry algoId / algoClOrdId (and reqId
    for an amend) instead of ordId / clOrdId."""

    ordId: str | None
    clOrdId: str | None
    tag: str | None
    ts: int | None
    sCode: str
    sMsg: str | None
    subCode: str | None
    algoId: str | None
    algoClOrdId: str | None
    reqId: str | None
    raw: Mapping[str, Any] = raw_field()

    @property
    def ok(self) -> bool:
        return self.sCode == "0"


@dataclass(frozen=True)
class OkxCancelAllAfter:
    """OKX's answer to Cancel All After: when the timer of `tag` (None: the account level) cancels the
    pending orders it covers, unless refreshed before; `triggerTime` 0 means disarmed."""

    triggerTime: int
    tag: str | None
    ts: int
    raw: Mapping[str, Any] = raw_field()

    @property
    def armed(self) -> bool:
        return self.triggerTime != 0


def parse_order(obj: Any) -> OkxOrder:
    f = Fields("order", obj)
    return OkxOrder(
        instId=f.text("instId"),
        ordId=f.text("ordId"),
        clOrdId=f.opt_text("clOrdId"),
        tag=f.opt_text("tag"),
        px=f.opt_decimal("px"),
        sz=f.decimal("sz"),
        ordType=f.text("ordType"),
        side=f.choice("side", SIDES),
        posSide=f.opt_text("posSide"),
        tdMode=f.text("tdMode"),
        state=f.choice("state", ORDER_STATES),
        accFillSz=f.decimal("accFillSz"),
        avgPx=f.opt_decimal("avgPx"),
        fillPx=f.opt_decimal("fillPx"),
        fillSz=f.opt_decimal("fillSz"),
        fillTime=f.opt_ms("fillTime"),
        tradeId=f.opt_text("tradeId"),
        fee=f.opt_decimal("fee"),
        feeCcy=f.opt_text("feeCcy"),
        cancelSource=f.opt_text("cancelSource"),
        reduceOnly=f.flag("reduceOnly"),
        algoId=f.opt_text("algoId"),
        algoClOrdId=f.opt_text("algoClOrdId"),
        cTime=f.ms("cTime"),
        uTime=f.ms("uTime"),
        raw=f.obj,
    )


def parse_fill(obj: Any) -> OkxFill:
    f = Fields("fill", obj)
    return OkxFill(
        instId=f.text("instId"),
        tradeId=f.text("tradeId"),
        ordId=f.id_text("ordId"),
        clOrdId=f.opt_text("clOrdId"),
        billId=f.digits("billId"),
        fillPx=f.decimal("fillPx"),
        fillSz=f.decimal("fillSz"),
        side=f.choice("side", SIDES),
        posSide=f.opt_text("posSide"),
        execType=f.opt_text("execType"),
        fee=f.decimal("fee"),
        feeCcy=f.text("feeCcy"),
        fillTime=f.ms("fillTime"),
        ts=f.ms("ts"),
        raw=f.obj,
    )


def parse_ack(obj: Any) -> OkxOrderAck:
    f = Fields("ack", obj)
    return OkxOrderAck(
        ordId=f.opt_text("ordId"),
        clOrdId=f.opt_text("clOrdId"),
        tag=f.opt_text("tag"),
        ts=f.opt_ms("ts"),
        sCode=f.text("sCode"),
        sMsg=f.opt_text("sMsg"),
        subCode=f.opt_text("subCode"),
        algoId=f.opt_text("algoId"),
        algoClOrdId=f.opt_text("algoClOrdId"),
        reqId=f.opt_text("reqId"),
        raw=f.obj,
    )


def parse_cancel_all_after(obj: Any) -> OkxCancelAllAfter:
    f = Fields("cancel all after", obj)
    return OkxCancelAllAfter(triggerTime=f.ms("triggerTime"), tag=f.opt_text("tag"), ts=f.ms("ts"), raw=f.obj)
