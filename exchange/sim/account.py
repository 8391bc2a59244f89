"""The account: one USDT balance, isolated positions per (instId, posSide), margin and P&L arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .decimals import fmt
from .instruments import Instrument

LEVER = Decimal(10)
MAKER_RATE = Decimal("0.0002")
TAKER_RATE = Decimal("0.0005")

# Fields OKX sends as "" where they do not apply (options, margin, spot, risk figures not modelled).
_POSITION_BLANKS = (
    "baseBal", "baseBorrowed", "baseInterest", "bePx", "bizRefId", "bizRefType", "clSpotInUseAmt",
    "deltaBS", "deltaPA", "gammaBS", "gammaPA", "hedgedPos", "imr", "interest", "liab", "liabCcy", "liqPx",
    "maxSpotInUseAmt", "mgnRatio", "mmr", "nonSettleAvgPx", "optVal", "posCcy", "quoteBal", "quoteBorrowed",
    "quoteInterest", "settledPnl", "spotInUseAmt", "spotInUseCcy", "thetaBS", "thetaPA", "usdPx", "vegaBS",
    "vegaPA",
)  # fmt: skip
_DETAIL_BLANKS = (
    "clSpotInUseAmt", "imr", "maxSpotInUse", "mgnRatio", "mmr", "notionalLever", "spotBal", "spotInUseAmt",
    "openAvgPx", "accAvgPx", "spotUpl", "spotUplRatio", "totalPnl", "totalPnlRatio",
)  # fmt: skip


@dataclass
class Position:
    inst: Instrument
    pos_side: str
    pos_id: str
    c_time: int
    u_time: int
    pos: Decimal = Decimal(0)
    avg_px: Decimal = Decimal(0)
    margin: Decimal = Decimal(0)
    pnl: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    trade_id: str = ""

    def upl(self, mark: Decimal) -> Decimal:
        diff = mark - self.avg_px if self.pos_side == "long" else self.avg_px - mark
        return diff * self.pos * self.inst.ct_val

    def to_okx(self, mark: Decimal, avail_pos: Decimal) -> dict[str, Any]:
        upl = self.upl(mark)
        ratio = upl / self.margin if self.margin else Decimal(0)
        return {
            **dict.fromkeys(_POSITION_BLANKS, ""),
            "adl": "1",
            "availPos": fmt(avail_pos),
            "avgPx": fmt(self.avg_px),
            "cTime": str(self.c_time),
            "ccy": "USDT",
            "closeOrderAlgo": [],
            "fee": fmt(self.fee),
            "fundingFee": "0",
            "idxPx": fmt(mark),
            "instId": self.inst.inst_id,
            "instType": "SWAP",
            "last": fmt(mark),
            "lever": fmt(LEVER),
            "liqPenalty": "0",
            "margin": fmt(self.margin),
            "markPx": fmt(mark),
            "mgnMode": "isolated",
            "notionalUsd": fmt(self.pos * self.inst.ct_val * mark),
            "pendingCloseOrdLiabVal": "0",
            "pnl": fmt(self.pnl),
            "pos": fmt(self.pos),
            "posId": self.pos_id,
            "posSide": self.pos_side,
            "realizedPnl": fmt(self.pnl + self.fee),
            "tradeId": self.trade_id,
            "uTime": str(self.u_time),
            "upl": fmt(upl),
            "uplLastPx": fmt(upl),
            "uplRatio": fmt(ratio),
            "uplRatioLastPx": fmt(ratio),
        }


def margin_for(inst: Instrument, px: Decimal, sz: Decimal) -> Decimal:
    return px * sz * inst.ct_val / LEVER


def fee_for(inst: Instrument, px: Decimal, sz: Decimal, exec_type: str) -> Decimal:
    return -(px * sz * inst.ct_val * (MAKER_RATE if exec_type == "M" else TAKER_RATE))


class Account:
    """Cash (cashBal) moves by fees and realised P&L; isolated margin and order margin are frozen in it."""

    def __init__(self, balance: Decimal) -> None:
        self.cash = balance
        self.positions: dict[tuple[str, str], Position] = {}

    def open(self, pos: Position, px: Decimal, sz: Decimal, fee: Decimal) -> None:
        total = pos.pos + sz
        pos.avg_px = (pos.avg_px * pos.pos + px * sz) / total
        pos.pos = total
        pos.margin += margin_for(pos.inst, px, sz)
        pos.fee += fee
        self.cash += fee

    def close(self, pos: Position, px: Decimal, sz: Decimal, fee: Decimal) -> Decimal:
        """Reduce the position; returns the realised P&L (fees apart)."""
        diff = px - pos.avg_px if pos.pos_side == "long" else pos.avg_px - px
        pnl = diff * sz * pos.inst.ct_val
        pos.margin -= pos.margin * sz / pos.pos
        pos.pos -= sz
        pos.pnl += pnl
        pos.fee += fee
        self.cash += pnl + fee
        if pos.pos == 0:
            del self.positions[(pos.inst.inst_id, pos.pos_side)]
        return pnl

    def iso_margin(self) -> Decimal:
        return sum((p.margin for p in self.positions.values()), Decimal(0))

    def to_okx(self, ord_frozen: Decimal, upl: Decimal, now_ms: int) -> dict[str, Any]:
        iso = self.iso_margin()
        frozen = iso + ord_frozen
        avail = self.cash - frozen
        eq = self.cash + upl
        detail = {
            **dict.fromkeys(_DETAIL_BLANKS, ""),
            "autoLendMtAmt": "0",
            "autoLendStatus": "off",
            "availBal": fmt(avail),
            "availEq": fmt(avail),
            "borrowFroz": "0",
            "cashBal": fmt(self.cash),
            "ccy": "USDT",
            "colBorrAutoConversion": "0",
            "colRes": "0",
            "collateralEnabled": False,
            "collateralRestrict": False,
            "crossLiab": "0",
            "disEq": fmt(eq),
            "eq": fmt(eq),
            "eqUsd": fmt(eq),
            "fixedBal": "0",
            "frozenBal": fmt(frozen),
            "frpType": "0",
            "interest": "0",
            "isoEq": fmt(iso + upl),
            "isoLiab": "0",
            "isoUpl": fmt(upl),
            "liab": "0",
            "maxLoan": "0",
            "ordFrozen": fmt(ord_frozen),
            "rewardBal": "0",
            "smtSyncEq": "0",
            "spotCopyTradingEq": "0",
            "spotIsoBal": "0",
            "stgyEq": "0",
            "twap": "0",
            "uTime": str(now_ms),
            "upl": fmt(upl),
            "uplLiab": "0",
        }
        return {
            "adjEq": fmt(eq),
            "availEq": fmt(avail),
            "borrowFroz": "0",
            "delta": "0",
            "deltaLever": "0",
            "deltaNeutralStatus": "0",
            "details": [detail],
            "imr": "0",
            "isoEq": fmt(iso + upl),
            "mgnRatio": "",
            "mmr": "0",
            "notionalUsd": "0",
            "notionalUsdForBorrow": "0",
            "notionalUsdForFutures": "0",
            "notionalUsdForOption": "0",
            "notionalUsdForSwap": "0",
            "ordFroz": fmt(ord_frozen),
            "totalEq": fmt(eq),
            "uTime": str(now_ms),
            "upl": fmt(upl),
        }
