"""The account: one USDT balance, its modes and leverage, positions, margin and P&L arithmetic.

A position is keyed (instId, mgnMode, posSide). In long/short mode posSide is long or short and `pos` is
positive; in net mode posSide is net and `pos` is signed (positive long, negative short), as OKX shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .decimals import fmt
from .instruments import Instrument

DEFAULT_LEVER = Decimal(10)
RATIO_STEP = Decimal("1e-16")
LONG_SHORT = "long_short_mode"
NET = "net_mode"
POS_MODES = (LONG_SHORT, NET)
ACCT_LEVELS = ("1", "2", "3", "4")  # spot, futures, multi-currency margin, portfolio margin
MGN_MODES = ("cross", "isolated")
PosKey = tuple[str, str, str]  # (instId, mgnMode, posSide)

# Fields OKX sends as "" where they do not apply (options, margin, spot, risk figures not modelled).
_POSITION_BLANKS = (
    "baseBal", "baseBorrowed", "baseInterest", "bePx", "bizRefId", "bizRefType", "clSpotInUseAmt",
    "deltaBS", "deltaPA", "gammaBS", "gammaPA", "hedgedPos", "interest", "liab", "liabCcy", "liqPx",
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
    mgn_mode: str
    pos_side: str  # long, short or net
    lever: Decimal
    pos_id: str
    c_time: int
    u_time: int
    pos: Decimal = Decimal(0)
    avg_px: Decimal = Decimal(0)
    margin: Decimal = Decimal(0)
    pnl: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    funding_fee: Decimal = Decimal(0)
    trade_id: str = ""

    @property
    def key(self) -> PosKey:
        return (self.inst.inst_id, self.mgn_mode, self.pos_side)

    @property
    def direction(self) -> int:
        """+1 for a long holding, -1 for a short one, 0 when a net position is flat."""
        if self.pos_side == "long":
            return 1
        if self.pos_side == "short":
            return -1
        return (self.pos > 0) - (self.pos < 0)

    @property
    def size(self) -> Decimal:
        """Contracts held, whatever the sign convention."""
        return abs(self.pos)

    def notional(self, px: Decimal) -> Decimal:
        return self.size * self.inst.ct_val * px

    def upl(self, mark: Decimal) -> Decimal:
        return (mark - self.avg_px) * self.direction * self.size * self.inst.ct_val

    def imr(self, mark: Decimal) -> Decimal:
        """Initial margin of a cross position (isolated ones hold `margin` instead)."""
        return self.notional(mark) / self.lever if self.mgn_mode == "cross" else Decimal(0)

    def to_okx(self, prices: Mapping[str, Decimal], avail_pos: Decimal) -> dict[str, Any]:
        """The position as GET /account/positions shows it. `prices` are last, mark and index: upl, the
        notional and a cross position's margin are at mark, as OKX prices them; uplLastPx at last."""
        mark, last = prices["mark"], prices["last"]
        upl, upl_last = self.upl(mark), self.upl(last)
        held = self.margin if self.mgn_mode == "isolated" else self.imr(mark)
        isolated = self.mgn_mode == "isolated"
        return {
            **dict.fromkeys(_POSITION_BLANKS, ""),
            "adl": "1",
            "availPos": fmt(avail_pos),
            "avgPx": fmt(self.avg_px),
            "cTime": str(self.c_time),
            "ccy": "USDT",
            "closeOrderAlgo": [],
            "fee": fmt(self.fee),
            "fundingFee": fmt(self.funding_fee),
            "idxPx": fmt(prices["index"]),
            "instId": self.inst.inst_id,
            "instType": "SWAP",
            "last": fmt(last),
            "imr": "" if isolated else fmt(self.imr(mark)),
            "lever": fmt(self.lever),
            "liqPenalty": "0",
            "margin": fmt(self.margin) if isolated else "",
            "markPx": fmt(mark),
            "mgnMode": self.mgn_mode,
            "notionalUsd": fmt(self.notional(mark)),
            "pendingCloseOrdLiabVal": "0",
            "pnl": fmt(self.pnl),
            "pos": fmt(self.pos),
            "posId": self.pos_id,
            "posSide": self.pos_side,
            "realizedPnl": fmt(self.pnl + self.fee + self.funding_fee),
            "tradeId": self.trade_id,
            "uTime": str(self.u_time),
            "upl": fmt(upl),
            "uplLastPx": fmt(upl_last),
            "uplRatio": fmt(_ratio(upl, held)),
            "uplRatioLastPx": fmt(_ratio(upl_last, held)),
        }


def _ratio(upl: Decimal, held: Decimal) -> Decimal:
    return (upl / held).quantize(RATIO_STEP) if held else Decimal(0)  # OKX shows ~16 places


def margin_for(inst: Instrument, px: Decimal, sz: Decimal, lever: Decimal) -> Decimal:
    return px * sz * inst.ct_val / lever


def fee_for(inst: Instrument, px: Decimal, sz: Decimal, rate: Decimal) -> Decimal:
    """The fee of a fill at `rate` of its notional (OKX shows a fee paid as a negative number)."""
    return -(px * sz * inst.ct_val * rate)


class Account:
    """Cash (cashBal) moves by fees and realised P&L; isolated margin and order margin are frozen in it.

    Modes as OKX keeps them: posMode, acctLv, and a leverage per (instId, mgnMode, posSide) where posSide
    counts only for isolated margin in long/short mode ("net" otherwise).
    """

    def __init__(self, balance: Decimal) -> None:
        self.cash = balance
        self.positions: dict[PosKey, Position] = {}
        self.pos_mode = LONG_SHORT
        self.acct_lv = "2"
        self._levers: dict[PosKey, Decimal] = {}

    def lever_key(self, inst_id: str, mgn_mode: str, pos_side: str) -> PosKey:
        per_side = mgn_mode == "isolated" and self.pos_mode == LONG_SHORT
        return (inst_id, mgn_mode, pos_side if per_side else "net")

    def lever(self, inst_id: str, mgn_mode: str, pos_side: str) -> Decimal:
        return self._levers.get(self.lever_key(inst_id, mgn_mode, pos_side), DEFAULT_LEVER)

    def set_lever(self, key: PosKey, lever: Decimal) -> None:
        self._levers[key] = lever

    def lever_sides(self, mgn_mode: str) -> tuple[str, ...]:
        """The posSides that carry their own leverage for `mgn_mode` in the current mode."""
        return ("long", "short") if mgn_mode == "isolated" and self.pos_mode == LONG_SHORT else ("net",)

    def fill(self, pos: Position, signed_sz: Decimal, px: Decimal, fee: Decimal) -> Decimal:
        """Apply a fill of `signed_sz` (buy positive) to `pos`: reduce first, then open; returns the
        realised P&L of the reduced part (fees apart). In long/short mode a fill never crosses zero."""
        pnl = Decimal(0)
        direction = pos.direction
        reducing = min(abs(signed_sz), pos.size) if direction and (signed_sz > 0) != (direction > 0) else 0
        if reducing:
            pnl = (px - pos.avg_px) * direction * reducing * pos.inst.ct_val
            pos.margin -= pos.margin * reducing / pos.size
            pos.pos -= reducing * direction if pos.pos_side == "net" else reducing
            pos.pnl += pnl
            self.cash += pnl
        opening = abs(signed_sz) - reducing
        if opening:
            held = pos.size
            pos.avg_px = (pos.avg_px * held + px * opening) / (held + opening)
            step = opening if pos.pos_side != "net" else (opening if signed_sz > 0 else -opening)
            pos.pos += step
            if pos.mgn_mode == "isolated":
                pos.margin += margin_for(pos.inst, px, opening, pos.lever)
        pos.fee += fee
        self.cash += fee
        if pos.pos == 0:
            del self.positions[pos.key]
        return pnl

    def iso_margin(self) -> Decimal:
        return sum((p.margin for p in self.positions.values()), Decimal(0))

    def cross_imr(self, mark: Callable[[Instrument], Decimal]) -> Decimal:
        return sum((p.imr(mark(p.inst)) for p in self.positions.values()), Decimal(0))

    def to_okx(self, ord_frozen: Decimal, cross_imr: Decimal, upl: Decimal, now_ms: int) -> dict[str, Any]:
        iso = self.iso_margin()
        frozen = iso + cross_imr + ord_frozen
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
            "imr": fmt(cross_imr),
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
