"""Algo-order records: an algo (a TP/SL `conditional` or `oco` above all) as OKX's algo endpoints show it.

OKX fills a fired algo's `ordIdList` with its child orders' ordIds; the child is an ordinary order (GET
/trade/order) that carries `algoId` and `algoClOrdId`, and its fills carry neither: join them by ordId.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from exchange.records.fields import Fields, raw_field
from exchange.records.orders import SIDES

# OKX's words for an algo's `state`, as OKX sends them; the engine names its own states in YAML.
ALGO_PENDING_STATES = frozenset({"live", "pause"})  # untriggered: orders-algo-pending lists them
ALGO_STATES = ALGO_PENDING_STATES | {
    "effective",  # fired: its child order was placed
    "canceled",
    "order_failed",  # fired, but its child order was refused: failCode says why
    "partially_effective",
    "partially_failed",
}
MARKET_PX = Decimal(-1)  # an slOrdPx / tpOrdPx of -1: the leg executes at market


@dataclass(frozen=True)
class OkxAlgoOrder:
    """One algo order. Prices are Decimal (`MARKET_PX` for a market leg); a leg not set is None.

    `failCode` is meaningful with state order_failed only (OKX also sends "0" or "" otherwise); `sz` is
    None for a closeFraction algo (the whole position); `actualSz` / `actualPx` / `actualSide` /
    `triggerTime` describe the firing (`actualPx` None for a market child).
    """

    instId: str
    algoId: str
    algoClOrdId: str | None
    ordType: str
    state: str
    side: str
    posSide: str | None
    tdMode: str
    sz: Decimal | None
    closeFraction: Decimal | None
    reduceOnly: bool
    slTriggerPx: Decimal | None
    slOrdPx: Decimal | None
    slTriggerPxType: str | None
    tpTriggerPx: Decimal | None
    tpOrdPx: Decimal | None
    tpTriggerPxType: str | None
    ordId: str | None  # OKX's deprecated "latest order ID"; ordIdList is the list
    ordIdList: tuple[str, ...]
    actualSz: Decimal | None
    actualPx: Decimal | None
    actualSide: str | None
    triggerTime: int | None
    failCode: str | None
    tag: str | None
    cTime: int
    uTime: int
    raw: Mapping[str, Any] = raw_field()

    @property
    def pending(self) -> bool:
        """Not triggered yet (it may still fire)."""
        return self.state in ALGO_PENDING_STATES


def parse_algo_order(obj: Any) -> OkxAlgoOrder:
    f = Fields("algo order", obj)
    return OkxAlgoOrder(
        instId=f.text("instId"),
        algoId=f.text("algoId"),
        algoClOrdId=f.opt_text("algoClOrdId"),
        ordType=f.text("ordType"),
        state=f.choice("state", ALGO_STATES),
        side=f.choice("side", SIDES),
        posSide=f.opt_text("posSide"),
        tdMode=f.text("tdMode"),
        sz=f.opt_decimal("sz"),
        closeFraction=f.opt_decimal("closeFraction"),
        reduceOnly=f.flag("reduceOnly"),
        slTriggerPx=f.opt_decimal("slTriggerPx"),
        slOrdPx=f.opt_decimal("slOrdPx"),
        slTriggerPxType=f.opt_text("slTriggerPxType"),
        tpTriggerPx=f.opt_decimal("tpTriggerPx"),
        tpOrdPx=f.opt_decimal("tpOrdPx"),
        tpTriggerPxType=f.opt_text("tpTriggerPxType"),
        ordId=f.opt_text("ordId"),
        ordIdList=f.texts("ordIdList"),
        actualSz=f.opt_decimal("actualSz"),
        actualPx=f.opt_decimal("actualPx"),
        actualSide=f.opt_text("actualSide"),
        triggerTime=f.opt_ms("triggerTime"),
        failCode=f.opt_text("failCode"),
        tag=f.opt_text("tag"),
        cTime=f.ms("cTime"),
        uTime=f.ms("uTime"),
        raw=f.obj,
    )
