"""Funding: the swap's periodic payment between longs and shorts, charged to open positions at each
funding time of a schedule (OKX: every 8 h, at 00:00, 08:00 and 16:00 UTC, at the rate of the period).

A position pays position value x rate (value at the mark price, a long pays a positive rate, a short
receives it); the payment moves the account's cash and the position's fundingFee, and leaves an account
bill as OKX's `GET /api/v5/account/bills` shows one (type 8, funding fee; subType 173 expense, 174
income). Without a schedule nothing is ever charged.

NOT verified against OKX: whether an isolated position's funding comes out of its margin rather than
the account's cash (here: cash, which holds the isolated margin too).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .decimals import fmt

BILL_FUNDING_FEE = "8"
SUB_EXPENSE, SUB_INCOME = "173", "174"


@dataclass(frozen=True)
class Charge:
    """One funding time of an instrument, and the period's rate."""

    ts: int
    rate: Decimal


@dataclass(frozen=True)
class Bill:
    """An account bill (the fields a funding bill carries; the others are empty, as OKX leaves them)."""

    bill_id: str
    inst_id: str
    mgn_mode: str
    ts: int
    bal_chg: Decimal
    bal: Decimal
    sz: Decimal
    px: Decimal

    def to_okx(self) -> dict[str, Any]:
        return {
            "bal": fmt(self.bal),
            "balChg": fmt(self.bal_chg),
            "billId": self.bill_id,
            "ccy": "USDT",
            "clOrdId": "",
            "execType": "",
            "fee": "0",
            "fillTime": "",
            "from": "",
            "instId": self.inst_id,
            "instType": "SWAP",
            "interest": "0",
            "mgnMode": self.mgn_mode,
            "notes": "",
            "ordId": "",
            "pnl": fmt(self.bal_chg),
            "posBal": "0",
            "posBalChg": "0",
            "px": fmt(self.px),
            "subType": SUB_EXPENSE if self.bal_chg < 0 else SUB_INCOME,
            "sz": fmt(self.sz),
            "tag": "",
            "to": "",
            "tradeId": "",
            "ts": str(self.ts),
            "type": BILL_FUNDING_FEE,
        }


class Schedule:
    """The funding times still to come, per instrument, oldest first."""

    def __init__(self) -> None:
        self._due: dict[str, list[Charge]] = {}

    def set(self, inst_id: str, charges: Iterable[Charge]) -> None:
        ordered = sorted(charges, key=lambda c: c.ts)
        if len({c.ts for c in ordered}) != len(ordered):
            raise ValueError(f"{inst_id}: two funding rates for one funding time")
        self._due[inst_id] = ordered

    def take_due(self, now_ms: int) -> list[tuple[str, Charge]]:
        """The charges whose time has come by `now_ms`, in time order; each is handed out once."""
        out: list[tuple[str, Charge]] = []
        for inst_id, charges in self._due.items():
            n = 0
            while n < len(charges) and charges[n].ts <= now_ms:
                n += 1
            out += [(inst_id, c) for c in charges[:n]]
            del charges[:n]
        return sorted(out, key=lambda item: item[1].ts)
