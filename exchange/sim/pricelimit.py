"""The price-limit band: how far from the last price a priced order may be (OKX's 51006).

The simulator's band is 5 % either side of the last traded price: buyLmt = last × 1.05 rounded down to
the tick, sellLmt = last × 0.95 rounded up to the tick. OKX's real band varies by instrument and market
state; 5 % is the simulator's choice (the facts sheet's cancelSource 27 mentions a 5 % price check).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from .decimals import fmt
from .errors import ItemError
from .instruments import Instrument

BAND = Decimal("0.05")


@dataclass(frozen=True)
class Band:
    buy_lmt: Decimal  # the highest price a buy may carry
    sell_lmt: Decimal  # the lowest price a sell may carry


def band(inst: Instrument, last: Decimal) -> Band:
    tick = inst.tick_sz
    buy = (last * (1 + BAND) / tick).to_integral_value(ROUND_FLOOR) * tick
    sell = (last * (1 - BAND) / tick).to_integral_value(ROUND_CEILING) * tick
    return Band(buy, sell)


def check(inst: Instrument, side: str, px: Decimal | None, last: Decimal) -> None:
    """Refuse (ItemError 51006) a priced buy above buyLmt or sell below sellLmt; market orders pass."""
    if px is None:
        return
    limits = band(inst, last)
    if (side == "buy" and px > limits.buy_lmt) or (side == "sell" and px < limits.sell_lmt):
        raise ItemError(
            "51006",
            "Order price is not within the price limit "
            f"(max buy price: {fmt(limits.buy_lmt)} min sell price: {fmt(limits.sell_lmt)})",
        )


def to_okx(inst: Instrument, last: Decimal, now_ms: int) -> dict[str, Any]:
    """One row of GET /api/v5/public/price-limit."""
    limits = band(inst, last)
    return {
        "instType": "SWAP",
        "instId": inst.inst_id,
        "buyLmt": fmt(limits.buy_lmt),
        "sellLmt": fmt(limits.sell_lmt),
        "ts": str(now_ms),
        "enabled": True,
    }
