"""Synthetic candle files for tests and `make bench`: seeded (one seed, one file, byte for byte) and
shaped like a market a ladder meets: stretches of trend up, trend down and chop, gaps of missing bars
(as OKX has around maintenance), and one crash bar.

The price walks bar to bar (each bar opens at the previous close, or after a gap where the walk went
on unseen), on the instrument's tick, in OKX's row format, written through the candle file's own writer.
Run `python -m fsm.replay.synthetic FILE --bars N` for a file.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from exchange.bars import bar_ms
from fsm.replay.candles import append

TREND_UP, TREND_DOWN, CHOP = "trend_up", "trend_down", "chop"
KINDS = (TREND_UP, TREND_DOWN, CHOP)
SEGMENT_BARS = (150, 600)  # a regime lasts this many bars (inclusive bounds)
DRIFT = {TREND_UP: 0.0008, TREND_DOWN: -0.0008, CHOP: 0.0}  # per bar, as a fraction of the price
CHOP_PULL = 0.05  # in chop, the share of the distance to the regime's first price won back each bar
VOLATILITY = 0.002  # per bar
GAP_EVERY = 3_000  # one gap per this many bars (at least one)
GAP_BARS = (1, 12)
CRASH_DROP = (0.08, 0.12)  # the crash bar's low under its open; it closes two thirds of the way down
CT_VAL = Decimal("0.1")  # ETH-USDT-SWAP's contract value, for volCcy
WRITE_ROWS = 1_000


@dataclass
class Shape:
    """What was made, for a test to check: regimes (kind, first ts, last ts), gaps (last ts before,
    first ts after), the crash bar's ts, and the rows written."""

    regimes: list[tuple[str, int, int]] = field(default_factory=list)
    gaps: list[tuple[int, int]] = field(default_factory=list)
    crash_ts: int | None = None
    rows: int = 0


def rows(
    seed: int, bar: str, start_ms: int, bars: int, start_px: Decimal, tick: Decimal, shape: Shape
) -> Iterator[list[str]]:
    """The rows of `bars` bars from start_ms (gap bars left out), filling in `shape` as they are made."""
    span = bar_ms(bar)
    rng = random.Random(f"synthetic:{seed}")
    crash = rng.randrange(bars // 2, max(bars // 2 + 1, bars * 3 // 4))
    missing: set[int] = set()
    if bars > 4 * GAP_BARS[1]:
        for start in rng.sample(range(1, bars - GAP_BARS[1] - 1), max(1, bars // GAP_EVERY)):
            missing.update(range(start, start + rng.randint(*GAP_BARS)))
    missing.discard(crash)
    px, index, last_ts = float(start_px), 0, None
    while index < bars:
        kind, length = rng.choice(KINDS), min(rng.randint(*SEGMENT_BARS), bars - index)
        anchor = px
        shape.regimes.append((kind, start_ms + index * span, start_ms + (index + length - 1) * span))
        for at in range(index, index + length):
            ts, open_ = start_ms + at * span, px
            if at == crash:
                low = open_ * (1 - rng.uniform(*CRASH_DROP))
                close, high = open_ - (open_ - low) * 2 / 3, open_
                shape.crash_ts = ts
            else:
                drift = DRIFT[kind] - (CHOP_PULL * (px - anchor) / px if kind == CHOP else 0.0)
                close = open_ * (1 + drift + rng.gauss(0.0, VOLATILITY))
                high = max(open_, close) * (1 + abs(rng.gauss(0.0, VOLATILITY / 2)))
                low = min(open_, close) * (1 - abs(rng.gauss(0.0, VOLATILITY / 2)))
            px, vol = close, rng.randint(200, 20_000)
            if at in missing:
                continue  # a bar OKX does not have: the market moved on, unseen
            if last_ts is not None and ts - last_ts > span:
                shape.gaps.append((last_ts, ts))
            last_ts = ts
            shape.rows += 1
            yield _row(ts, open_, high, low, close, tick, vol)
        index += length


def _row(ts: int, o: float, h: float, l: float, c: float, tick: Decimal, vol: int) -> list[str]:  # noqa: E741
    o_, h_, l_, c_ = (_on_tick(x, tick) for x in (o, h, l, c))
    h_, l_ = max(h_, o_, c_), min(l_, o_, c_)
    vol_ccy = vol * CT_VAL
    prices = (_text(x) for x in (o_, h_, l_, c_))
    return [str(ts), *prices, str(vol), _text(vol_ccy), _text(vol_ccy * c_), "1"]


def _text(value: Decimal) -> str:
    """As OKX writes a number: no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


def _on_tick(px: float, tick: Decimal) -> Decimal:
    return max(tick, (Decimal(repr(px)) / tick).quantize(Decimal(1), ROUND_HALF_EVEN) * tick)


def write(
    path: Path,
    seed: int,
    bar: str,
    start_ms: int,
    bars: int,
    start_px: Decimal = Decimal("3000"),
    tick: Decimal = Decimal("0.01"),
) -> Shape:
    """Write a new candle file (JSON lines, or CSV by its name) a thousand rows at a time; its shape."""
    if path.exists():
        raise FileExistsError(f"{path} exists: a synthetic file is only ever written new")
    shape = Shape()
    chunk: list[list[str]] = []
    for row in rows(seed, bar, start_ms, bars, start_px, tick, shape):
        chunk.append(row)
        if len(chunk) == WRITE_ROWS:
            append(path, chunk)
            chunk = []
    if chunk:
        append(path, chunk)
    return shape


def main() -> None:
    parser = argparse.ArgumentParser(description="write a seeded synthetic candle file")
    parser.add_argument("file", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bar", default="15m")
    parser.add_argument("--bars", type=int, default=35_040)
    parser.add_argument("--start-ms", type=int, default=1_735_689_600_000)  # 2025-01-01T00:00Z
    args = parser.parse_args()
    shape = write(args.file, args.seed, args.bar, args.start_ms, args.bars)
    print(f"{args.file}: {shape.rows} bars, {len(shape.gaps)} gaps, crash at {shape.crash_ts}")


if __name__ == "__main__":
    main()
