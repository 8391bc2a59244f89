"""The price path a bar becomes inside the simulator: open, then the two extremes, then close.

`nearer` (the default) visits first the extreme nearer the open, as a market most often does;
`pessimistic` visits first the extreme against the machine's side (the low for a buyer: its entries
fill and its stop is tried before the high comes). The points sit at 0, 1/3 and 2/3 of the bar and one
second before its close, so every price the bar traded is reached inside the bar's own time.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchange import Candle

NEARER, PESSIMISTIC = "nearer", "pessimistic"
PATH_ORDERS = (NEARER, PESSIMISTIC)
CLOSE_BEFORE_END_MS = 1_000


@dataclass(frozen=True)
class Point:
    ts: int
    px: Decimal


def bar_path(candle: Candle, span_ms: int, order: str, side: str) -> list[Point]:
    """The four points of `candle` (a bar of `span_ms`), in the `order` for a machine buying or selling."""
    if order not in PATH_ORDERS:
        raise ValueError(f"path order must be one of {', '.join(PATH_ORDERS)}")
    low_first = candle.o - candle.l <= candle.h - candle.o if order == NEARER else side == "buy"
    first, second = (candle.l, candle.h) if low_first else (candle.h, candle.l)
    ts = candle.ts
    return [
        Point(ts, candle.o),
        Point(ts + span_ms // 3, first),
        Point(ts + 2 * span_ms // 3, second),
        Point(ts + span_ms - CLOSE_BEFORE_END_MS, candle.c),
    ]
