"""How the simulator fills: fee rates, whether touching a resting order's price fills it, and the
slippage of orders that take at market.

The defaults are the simulator's long-standing behaviour (OKX's base-tier swap rates, a touch fills,
no slippage); a replay asks for the harsher model (a resting order fills only when the market trades
through its price; market orders pay a few basis points).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from .decimals import fmt

BASE_MAKER_RATE = Decimal("0.0002")  # OKX's base tier for USDT-margined swaps
BASE_TAKER_RATE = Decimal("0.0005")
BP = Decimal("0.0001")


@dataclass(frozen=True)
class FillModel:
    maker_rate: Decimal = BASE_MAKER_RATE
    taker_rate: Decimal = BASE_TAKER_RATE
    fill_on_touch: bool = True
    slippage_bp: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.maker_rate < -1 or self.maker_rate >= 1 or not 0 <= self.taker_rate < 1:
            raise ValueError("fee rates must be fractions of the notional (0.0005 is 5 bp)")
        if self.slippage_bp < 0:
            raise ValueError("slippage_bp must not be negative")

    def rate(self, exec_type: str) -> Decimal:
        return self.maker_rate if exec_type == "M" else self.taker_rate

    def reaches(self, side: str, px: Decimal, low_px: Decimal, high_px: Decimal) -> bool:
        """Whether the market trading over [low_px, high_px] reaches a resting `side` order at `px`."""
        if self.fill_on_touch:
            return (side == "buy" and low_px <= px) or (side == "sell" and high_px >= px)
        return (side == "buy" and low_px < px) or (side == "sell" and high_px > px)

    def market_px(self, side: str, px: Decimal, tick: Decimal) -> Decimal:
        """What a market order of `side` pays at market price `px`: the slippage against it, on the tick
        (a buy rounded up, a sell down, never below one tick)."""
        if not self.slippage_bp:
            return px
        if side == "buy":
            return (px * (1 + self.slippage_bp * BP) / tick).to_integral_value(ROUND_CEILING) * tick
        return max(tick, (px * (1 - self.slippage_bp * BP) / tick).to_integral_value(ROUND_FLOOR) * tick)

    def to_dict(self) -> dict[str, Any]:
        return {k: fmt(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}
