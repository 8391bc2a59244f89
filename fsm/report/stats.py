"""The report's numbers: pure functions of the cycles read from the journal (and of the candles, for
buy-and-hold). Nothing here reads a file or renders; the tables, charts and JSON only show these.

Money is Decimal in the settle currency; times are exchange ms; a cycle counts when it ended (its last
exit fill), as freqtrade counts a trade on its close date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from fsm.report.cycles import Cycle

ZERO = Decimal("0")
RATE = Decimal("0.0001")  # rates and ratios are shown to four places
DAY_MS = 86_400_000


def in_range(cycles: Iterable[Cycle], since_ms: int | None, until_ms: int | None) -> list[Cycle]:
    """The cycles that ended in [since, until)."""
    return [
        c
        for c in cycles
        if (since_ms is None or c.end_ts >= since_ms) and (until_ms is None or c.end_ts < until_ms)
    ]


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return None if not whole else (Decimal(part) / Decimal(whole)).quantize(RATE)


@dataclass(frozen=True)
class RungRate:
    """One rung level over the cycles: how many were placed on OKX (it gave the order an ordId), how
    many got any fill, how many filled their whole size."""

    level: int
    placed: int
    filled: int
    full: int

    @property
    def fill_rate(self) -> Decimal | None:
        return ratio(self.filled, self.placed)


def rung_rates(cycles: Sequence[Cycle]) -> list[RungRate]:
    levels = sorted({r.level for c in cycles for r in c.rungs})
    rates = []
    for level in levels:
        rungs = [r for c in cycles for r in c.rungs if r.level == level and r.ordId is not None]
        filled = sum(1 for r in rungs if r.accFillSz > 0)
        full = sum(1 for r in rungs if r.accFillSz >= r.sz > 0)
        rates.append(RungRate(level, len(rungs), filled, full))
    return rates


@dataclass(frozen=True)
class EquityPoint:
    """The realized PnL summed up to a cycle's end, and how far below its peak so far it stands."""

    ts: int
    equity: Decimal
    drawdown: Decimal


def equity_curve(cycles: Sequence[Cycle]) -> list[EquityPoint]:
    """One point per traded cycle, in the order they ended, starting from zero."""
    points: list[EquityPoint] = []
    equity = peak = ZERO
    for cycle in sorted((c for c in cycles if c.traded), key=lambda c: c.end_ts):
        equity += cycle.realized_pnl
        peak = max(peak, equity)
        points.append(EquityPoint(cycle.end_ts, equity, peak - equity))
    return points


def max_drawdown(values: Iterable[Decimal], start: Decimal = ZERO) -> Decimal:
    """The largest fall from a running peak (the peak starts at `start`)."""
    peak, worst = start, ZERO
    for value in values:
        peak = max(peak, value)
        worst = max(worst, peak - value)
    return worst


def longest_streak(pnls: Iterable[Decimal]) -> int:
    """The most losing cycles in a row."""
    longest = run = 0
    for pnl in pnls:
        run = run + 1 if pnl < 0 else 0
        longest = max(longest, run)
    return longest


@dataclass(frozen=True)
class Summary:
    """The range's cycles in a few numbers. `traded` counts cycles that entered anything; win rate,
    average PnL and the losing streak are over those. `profit_factor` is None with no losing cycle."""

    cycles: int
    traded: int
    wins: int
    losses: int
    win_rate: Decimal | None
    total_pnl: Decimal
    avg_pnl: Decimal | None
    fees: Decimal
    fee_ccy: str | None
    gross_profit: Decimal
    gross_loss: Decimal
    profit_factor: Decimal | None
    max_drawdown: Decimal
    exposure_ms: int
    exposure: Decimal | None  # exposure_ms over the range's span
    longest_losing_streak: int
    rungs: tuple[RungRate, ...]
    exit_reasons: dict[str, int]


def summarize(cycles: Sequence[Cycle], span_ms: int | None) -> Summary:
    traded = sorted((c for c in cycles if c.traded), key=lambda c: c.end_ts)
    pnls = [c.realized_pnl for c in traded]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    total = sum(pnls, ZERO)
    gross_profit, gross_loss = sum(wins, ZERO), -sum(losses, ZERO)
    exposure = sum(c.holding_ms for c in traded)
    reasons: dict[str, int] = {}
    for c in traded:
        key = c.exit_reason or "not recorded"
        reasons[key] = reasons.get(key, 0) + 1
    return Summary(
        cycles=len(cycles),
        traded=len(traded),
        wins=len(wins),
        losses=len(losses),
        win_rate=ratio(len(wins), len(traded)),
        total_pnl=total,
        avg_pnl=total / len(traded) if traded else None,
        fees=sum((c.summary.fees for c in cycles), ZERO),
        fee_ccy=next((c.summary.fee_ccy for c in cycles if c.summary.fee_ccy), None),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=ratio(gross_profit, gross_loss),
        max_drawdown=max((p.drawdown for p in equity_curve(traded)), default=ZERO),
        exposure_ms=exposure,
        exposure=ratio(exposure, span_ms) if span_ms else None,
        longest_losing_streak=longest_streak(pnls),
        rungs=tuple(rung_rates(cycles)),
        exit_reasons=reasons,
    )


def span(
    cycles: Sequence[Cycle],
    since_ms: int | None,
    until_ms: int | None,
    closes: Sequence[tuple[int, Decimal]] | None = None,
) -> tuple[int, int] | None:
    """The range the report covers: --from/--to where given, else the candles' (buy-and-hold's), else
    the first cycle's start to the last one's end; None when none of them says."""
    starts = [c.start_ts for c in cycles] if not closes else [closes[0][0]]
    ends = [c.end_ts for c in cycles] if not closes else [closes[-1][0]]
    start = since_ms if since_ms is not None else min(starts, default=None)
    end = until_ms if until_ms is not None else max(ends, default=None)
    return None if start is None or end is None or end <= start else (start, end)


@dataclass(frozen=True)
class BuyAndHold:
    """Bought at the range's first open, held to its last close: the same size as the ladder's average
    traded cycle (None when nothing traded, so no money figure), long whatever the ladder's side."""

    first_ts: int
    last_ts: int
    first_px: Decimal
    last_px: Decimal
    return_pct: Decimal
    size: Decimal | None  # contracts
    pnl: Decimal | None
    max_drawdown: Decimal | None  # money, on the closes, from the peak
    max_drawdown_pct: Decimal


def buy_and_hold(
    first_open: Decimal, closes: Sequence[tuple[int, Decimal]], cycles: Sequence[Cycle]
) -> BuyAndHold | None:
    """Buy-and-hold over `closes` (exchange ms, close), bought at `first_open`; None without candles."""
    if not closes:
        return None
    last_px = closes[-1][1]
    peak, worst_pct, worst = first_open, ZERO, ZERO
    for _, px in closes:
        peak = max(peak, px)
        if peak - px > worst:
            worst, worst_pct = peak - px, (peak - px) / peak * 100
    traded = [c for c in cycles if c.traded]
    ct_val = next((c.ct_val for c in traded if c.ct_val is not None), None)
    size = sum((c.summary.bought for c in traded), ZERO) / len(traded) if traded else None
    money = None if size is None or ct_val is None else size * ct_val
    return BuyAndHold(
        first_ts=closes[0][0],
        last_ts=closes[-1][0],
        first_px=first_open,
        last_px=last_px,
        return_pct=((last_px - first_open) / first_open * 100).quantize(Decimal("0.01")),
        size=size,
        pnl=None if money is None else (last_px - first_open) * money,
        max_drawdown=None if money is None else worst * money,
        max_drawdown_pct=worst_pct.quantize(Decimal("0.01")),
    )


@dataclass(frozen=True)
class Realized:
    """freqtrade's /profit and /daily for one machine: realized PnL of the cycles that ended today (UTC,
    exchange time) and of every cycle since the first the journal holds."""

    day: str | None  # None with no clock to say which day it is (no journal yet)
    today: Decimal
    cycles_today: int
    total: Decimal
    cycles: int
    since_ts: int | None  # the first cycle's start
    fee_ccy: str | None


def utc_day(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d")


def realized(cycles: Sequence[Cycle], now_ms: int | None) -> Realized:
    start = None if now_ms is None else now_ms - now_ms % DAY_MS
    today = [] if start is None else [c for c in cycles if start <= c.end_ts < start + DAY_MS]
    return Realized(
        day=None if now_ms is None else utc_day(now_ms),
        today=sum((c.realized_pnl for c in today), ZERO),
        cycles_today=len(today),
        total=sum((c.realized_pnl for c in cycles), ZERO),
        cycles=len(cycles),
        since_ts=min((c.start_ts for c in cycles), default=None),
        fee_ccy=next((c.summary.fee_ccy for c in cycles if c.summary.fee_ccy), None),
    )
