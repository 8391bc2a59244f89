"""The account's trading state: a pure function of the operator's marks, the machines' realized PnL by
exchange time and the limits; every reducing request passes the gate in every trading state; the
account journal is refused when corrupt, never overwritten."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsm.engine.orders import Fill
from fsm.engine.pnl import realized_by_fill
from fsm.errors import StateCorrupt
from fsm.risk.gate import REDUCING_KINDS, Exposure, GateRequest, OrderLine, Refusal, gate
from fsm.risk.ledger import opened, read_book
from fsm.risk.trading import DAY_MS, Mark, Realized, Trading, TradingState, evaluate
from fsm.spec.limits import Limits

DAY = 20_000 * DAY_MS  # a UTC midnight
TIGHT = Limits(
    max_order_notional=Decimal("1"),
    max_open_notional=Decimal("1"),
    max_leverage=Decimal("1"),
    max_cycle_notional=Decimal("1"),
    max_daily_loss=Decimal("1"),
    max_drawdown=Decimal("1"),
)


@given(
    state=st.sampled_from(TradingState),
    kind=st.sampled_from(("place", *REDUCING_KINDS)),
    notionals=st.lists(st.decimals(min_value=0, max_value=10**9, places=2), min_size=1, max_size=20),
    held=st.decimals(min_value=0, max_value=10**9, places=2),
    leverage=st.one_of(st.none(), st.decimals(min_value=1, max_value=125, places=0)),
)
def test_every_reduce_only_request_passes_in_every_trading_state(
    state: TradingState, kind: str, notionals: list[Decimal], held: Decimal, leverage: Decimal | None
) -> None:
    # Cancels, stops, flatten, and any batch of reduce-only exits: never refused, whatever the limits.
    orders = tuple(OrderLine("ETH-USDT-SWAP", n, reduce_only=True) for n in notionals)
    request = GateRequest("exit", kind=kind, orders=orders, leverage=leverage)  # type: ignore[arg-type]
    exposure = Exposure({"ETH-USDT-SWAP": held}, cycle_notional=held)
    assert gate(request, exposure, TIGHT, Trading(state)) is None


@pytest.mark.parametrize("state", [TradingState.REDUCING, TradingState.HALTED])
def test_an_entry_is_refused_outside_active_with_the_state(state: TradingState) -> None:
    request = GateRequest("entries", orders=(OrderLine("ETH-USDT-SWAP", Decimal("0.01")),))
    refusal = gate(request, Exposure(), Limits(), Trading(state))
    assert refusal is not None and refusal.rule == "trading state" and refusal.value == state.value


def test_halt_holds_until_resume_and_the_newest_mark_wins() -> None:
    assert evaluate([Mark("halt", DAY)], [], Limits(), DAY + 5).state is TradingState.HALTED
    assert evaluate([Mark("halt", DAY), Mark("resume", DAY + 1)], [], Limits(), DAY + 5).state is (
        TradingState.ACTIVE
    )
    same_ms = [Mark("reduce", DAY), Mark("resume", DAY)]  # the journal's order decides, not the clock
    assert evaluate(same_ms, [], Limits(), DAY).state is TradingState.ACTIVE
    reduced = evaluate([Mark("halt", DAY), Mark("reduce", DAY + 1)], [], Limits(), DAY + 5)
    assert reduced.state is TradingState.REDUCING and reduced.set_by == "operator reduce"


def test_the_daily_loss_reduces_until_the_next_utc_day_or_a_resume() -> None:
    limits = Limits(max_daily_loss=Decimal("100"))
    losses = [Realized(DAY + 10, Decimal("-60")), Realized(DAY + 20, Decimal("-50"))]
    found = evaluate([], losses, limits, DAY + 30)
    assert found.state is TradingState.REDUCING and found.since == DAY + 20
    assert "realized -110.00 " in found.set_by and found.clears.startswith("2024-10-05T00:00Z")
    assert evaluate([], losses, limits, DAY + DAY_MS).state is TradingState.ACTIVE  # the next day
    assert evaluate([Mark("resume", DAY + 25)], losses, limits, DAY + 30).state is TradingState.ACTIVE
    # Yesterday's losses never count today; a gain the same day offsets.
    assert evaluate([], [Realized(DAY - 1, Decimal("-500"))], limits, DAY + 1).state is TradingState.ACTIVE
    offset = [*losses, Realized(DAY + 15, Decimal("20"))]
    assert evaluate([], offset, limits, DAY + 30).state is TradingState.ACTIVE


def test_a_refusal_by_the_trading_state_names_the_limit_its_value_and_the_request() -> None:
    losses = [Realized(DAY + 10, Decimal("-150")), Realized(DAY + 20, Decimal("-63.4"))]
    trading = evaluate([], losses, Limits(max_daily_loss=Decimal("200")), DAY + 30)
    request = GateRequest("ertw entries r1, r2", orders=(OrderLine("ETH-USDT-SWAP", Decimal(5)),))
    refusal = gate(request, Exposure(), Limits(), trading)
    said = "reducing: max_daily_loss 200: realized -213.40 on 2024-10-04 (UTC): ertw entries r1, r2"
    assert refusal is not None and str(refusal) == said
    record = refusal.to_dict()
    assert record["set_by"] == "max_daily_loss 200: realized -213.40 on 2024-10-04 (UTC)"
    assert str(Refusal.from_dict(record)) == said  # status and the notification read it back
    drawdown = evaluate([], losses, Limits(max_drawdown=Decimal("150")), DAY + 30)
    assert str(gate(request, Exposure(), Limits(), drawdown)) == (
        "reducing: max_drawdown 150: realized equity -150.00, 150.00 below its peak 0.00: ertw entries r1, r2"
    )


def test_the_drawdown_is_measured_from_the_peak_not_from_the_start() -> None:
    limits = Limits(max_drawdown=Decimal("100"))
    # Up 500, then down 150: still 350 above the start, but 150 below the peak (Hummingbot #2969).
    curve = [Realized(DAY - 5 * DAY_MS, Decimal("500")), Realized(DAY + 1, Decimal("-150"))]
    found = evaluate([], curve, limits, DAY + 2)
    assert found.state is TradingState.REDUCING and "150.00 below its peak 500.00" in found.set_by
    assert found.clears == "okx-fsm resume --account"  # a drawdown does not clear with the day
    assert evaluate([Mark("resume", DAY + 1)], curve, limits, DAY + 2).state is TradingState.ACTIVE


@given(
    pnls=st.lists(st.decimals(min_value=-1000, max_value=1000, places=2), max_size=30),
    limit=st.decimals(min_value=1, max_value=2000, places=2),
)
def test_the_drawdown_trips_exactly_when_equity_falls_limit_below_a_running_peak(
    pnls: list[Decimal], limit: Decimal
) -> None:
    realized = [Realized(DAY + i, p) for i, p in enumerate(pnls)]
    equity, peak, tripped = Decimal(0), Decimal(0), False
    for p in pnls:
        equity += p
        peak = max(peak, equity)
        tripped = tripped or peak - equity >= limit
    found = evaluate([], realized, Limits(max_drawdown=limit), DAY + len(pnls))
    assert (found.state is TradingState.REDUCING) == tripped


def _fill(trade: int, side: str, px: str, sz: str, fee: str = "0") -> Fill:
    return Fill(
        str(trade), str(trade), "o", "c", Decimal(px), Decimal(sz), Decimal(fee), "USDT", DAY + trade, side
    )


def test_realized_pnl_per_fill_by_exchange_time() -> None:
    fills = [
        _fill(1, "buy", "3000", "1", "-0.1"),
        _fill(2, "buy", "2900", "1", "-0.1"),
        _fill(3, "sell", "3050", "1", "-0.2"),
    ]
    # Average entry 2950; 1 contract x 0.1 ETH sold 100 above it: +10, less its fee.
    assert realized_by_fill(fills, "buy", Decimal("0.1")) == [
        (DAY + 1, Decimal("-0.1")),
        (DAY + 2, Decimal("-0.1")),
        (DAY + 3, Decimal("9.8")),
    ]
    short = [_fill(1, "sell", "3000", "1"), _fill(2, "buy", "3100", "1")]
    assert realized_by_fill(short, "sell", Decimal("0.1"))[-1] == (DAY + 2, Decimal("-10.0"))


def test_a_corrupt_account_journal_is_refused_never_overwritten(tmp_path: Path) -> None:
    with opened(tmp_path) as ledger:
        ledger.mark("halt", DAY, "r1")
    assert read_book(tmp_path).marks == [Mark("halt", DAY)]
    state_file = tmp_path / "account.json"
    state_file.write_text("{")
    with pytest.raises(StateCorrupt):
        read_book(tmp_path)
    with pytest.raises(StateCorrupt), opened(tmp_path):
        pass
    assert state_file.read_text() == "{"
