"""The SWAP instruments the simulator lists, with the fields OKX's /public/instruments returns."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .decimals import fmt

LIST_TIME_MS = 1611916828000


@dataclass(frozen=True)
class Instrument:
    inst_id: str
    base_ccy: str
    ct_val: Decimal
    tick_sz: Decimal
    lot_sz: Decimal
    min_sz: Decimal
    max_lmt_sz: Decimal
    max_mkt_sz: Decimal
    default_px: Decimal
    inst_id_code: int
    max_lever: Decimal = Decimal(100)

    @property
    def inst_family(self) -> str:
        return self.inst_id.removesuffix("-SWAP")

    def to_okx(self) -> dict[str, Any]:
        return {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": "",
            "category": "1",
            "contTdSwTime": "",
            "ctMult": "1",
            "ctType": "linear",
            "ctVal": fmt(self.ct_val),
            "ctValCcy": self.base_ccy,
            "expTime": "",
            "futureSettlement": False,
            "groupId": "1",
            "instCategory": "1",
            "instFamily": self.inst_family,
            "instId": self.inst_id,
            "instIdCode": self.inst_id_code,
            "instType": "SWAP",
            "lever": fmt(self.max_lever),
            "listTime": str(LIST_TIME_MS),
            "lotSz": fmt(self.lot_sz),
            "maxIcebergSz": "100000000",
            "maxLmtAmt": "20000000",
            "maxLmtSz": fmt(self.max_lmt_sz),
            "maxMktAmt": "",
            "maxMktSz": fmt(self.max_mkt_sz),
            "maxStopSz": fmt(self.max_mkt_sz),
            "maxTriggerSz": fmt(self.max_lmt_sz),
            "maxTwapSz": fmt(self.max_lmt_sz),
            "minSz": fmt(self.min_sz),
            "openType": "",
            "optType": "",
            "preMktSwTime": "",
            "quoteCcy": "",
            "ruleType": "normal",
            "settleCcy": "USDT",
            "state": "live",
            "stk": "",
            "tickSz": fmt(self.tick_sz),
            "tradeQuoteCcyList": [],
            "uly": self.inst_family,
            "upcChg": [],
        }


INSTRUMENTS: dict[str, Instrument] = {
    inst.inst_id: inst
    for inst in (
        Instrument(
            inst_id="ETH-USDT-SWAP",
            base_ccy="ETH",
            ct_val=Decimal("0.1"),
            tick_sz=Decimal("0.01"),
            lot_sz=Decimal("0.01"),
            min_sz=Decimal("0.01"),
            max_lmt_sz=Decimal("1000000"),
            max_mkt_sz=Decimal("10000"),
            default_px=Decimal("3000"),
            inst_id_code=10459,
        ),
        Instrument(
            inst_id="BTC-USDT-SWAP",
            base_ccy="BTC",
            ct_val=Decimal("0.01"),
            tick_sz=Decimal("0.1"),
            lot_sz=Decimal("0.01"),
            min_sz=Decimal("0.01"),
            max_lmt_sz=Decimal("1000000"),
            max_mkt_sz=Decimal("5000"),
            default_px=Decimal("90000"),
            inst_id_code=10458,
        ),
    )
}

PRIMARY_INST_ID = "ETH-USDT-SWAP"
