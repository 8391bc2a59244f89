"""The report's numbers (fsm.report.stats) against brute force, over cycles hypothesis makes up."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from fsm.engine.orders import Fill
from fsm.engine.pnl import fills_summary
from fsm.report.cycles import Cycle
from fsm.report.stats import DAY_MS, equity_curve, longest_streak, max_drawdown, realized, summarize

CT_VAL = Decimal("0.1")
money = st.decimals(min_value=-50, max_value=50, places=2, allow_nan=False, allow_infinity=False)


def fill(n: int, side: str, px: Decimal, sz: Decimal, ts: int) -> Fill:
    return Fill(str(n), str(n), str(n), f"c{n}", px, sz, Decimal("-0.01"), "USDT", ts, side)


def cycle(n: int, move: Decimal, end_ts: int) -> Cycle:
    """A long cycle of one contract bought at 1000 and sold at 1000 + move, ending at end_ts."""
    fills = (
        fill(2 * n, "buy", Decimal(1000), Decimal(1), end_ts - 1000),
        fill(2 * n + 1, "sell", 1000 + move, Decimal(1), end_ts),
    )
    return Cycle(
        cycle_id=f"c{n}",
        entry_side="buy",
        signal=None,
        ct_val=CT_VAL,
        rungs=(),
        fills=fills,
        stops=(),
        summary=fills_summary(fills, CT_VAL, "buy"),
        exit_reason="timed",
        start_ts=end_ts - 2000,
        end_ts=end_ts,
    )


def brute_drawdown(values: list[Decimal]) -> Decimal:
    worst = Decimal(0)
    for j, value in enumerate(values):
        worst = max(worst, max([Decimal(0), *values[: j + 1]]) - value)
    return worst


@given(st.lists(money, max_size=30))
def test_max_drawdown_is_the_largest_fall_from_a_running_peak(values: list[Decimal]) -> None:
    assert max_drawdown(values) == brute_drawdown(values)


@given(st.lists(money, max_size=30))
def test_longest_streak_counts_losses_in_a_row(pnls: list[Decimal]) -> None:
    runs = "".join("L" if p < 0 else "." for p in pnls).split(".")
    assert longest_streak(pnls) == max((len(r) for r in runs), default=0)


@given(st.lists(money, min_size=1, max_size=20))
def test_summary_adds_up_the_cycles(moves: list[Decimal]) -> None:
    cycles = [cycle(n, move, 10_000 * (n + 1)) for n, move in enumerate(moves)]
    pnls = [move * CT_VAL - Decimal("0.02") for move in moves]  # two fills, 0.01 fee each
    s = summarize(cycles, span_ms=10_000 * (len(moves) + 1))
    assert s.total_pnl == sum(pnls) and s.traded == len(moves)
    assert s.wins == sum(1 for p in pnls if p > 0) and s.losses == sum(1 for p in pnls if p < 0)
    assert s.fees == Decimal("-0.02") * len(moves)
    curve = [sum(pnls[: i + 1], Decimal(0)) for i in range(len(pnls))]
    assert [p.equity for p in equity_curve(cycles)] == curve
    assert s.max_drawdown == brute_drawdown(curve)
    assert s.exposure_ms == 1000 * len(moves)
    losses = -sum(p for p in pnls if p < 0)
    assert s.profit_factor == (
        None if not losses else (sum(p for p in pnls if p > 0) / losses).quantize(Decimal("0.0001"))
    )


def test_realized_today_is_the_utc_day_of_the_exchange_clock() -> None:
    midnight = 20_000 * DAY_MS
    cycles = [
        cycle(0, Decimal(10), midnight - 1),
        cycle(1, Decimal(-5), midnight),
        cycle(2, Decimal(2), midnight + 5),
    ]
    r = realized(cycles, midnight + 3600_000)
    assert (r.cycles_today, r.today) == (2, Decimal("-0.3") - Decimal("0.04"))
    assert (r.cycles, r.total, r.since_ts) == (3, Decimal("0.7") - Decimal("0.06"), midnight - 2001)
    assert r.day == "2024-10-04"
    assert realized([], None).day is None
