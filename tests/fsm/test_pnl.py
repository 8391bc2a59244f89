"""A cycle's PnL from its own fills: long ladders gain when the exit is dearer, short ladders when cheaper."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fsm.engine.orders import Fill
from fsm.engine.pnl import cycle_summary
from fsm.engine.state import LadderState


def fill(side: str, px: str, sz: str, fee: str = "0") -> Fill:
    return Fill(f"t{side}{px}", "1", "1", "c", Decimal(px), Decimal(sz), Decimal(fee), "USDT", 0, side)


@pytest.mark.parametrize(
    ("entry_side", "entry_px", "exit_px", "gross"),
    [
        ("buy", "3000", "3030", "6"),  # (3030 - 3000) x 2 x 0.1
        ("buy", "3000", "2970", "-6"),
        ("sell", "3000", "2970", "6"),  # a short: (3000 - 2970) x 2 x 0.1
        ("sell", "3000", "3030", "-6"),
    ],
)
def test_realized_pnl_has_the_sign_of_the_trade(
    entry_side: str, entry_px: str, exit_px: str, gross: str
) -> None:
    exit_side = "sell" if entry_side == "buy" else "buy"
    state = LadderState(state="closed", ct_val=Decimal("0.1"))
    state.fills = [
        fill(entry_side, entry_px, "1.5", "-0.1"),
        fill(entry_side, entry_px, "0.5", "-0.1"),
        fill(exit_side, exit_px, "2", "-0.2"),
    ]
    summary = cycle_summary(state, entry_side)
    assert (summary.bought, summary.sold) == (Decimal("2"), Decimal("2"))  # entered, exited
    assert (summary.avg_entry, summary.avg_exit) == (Decimal(entry_px), Decimal(exit_px))
    assert summary.fees == Decimal("-0.4")
    assert summary.realized_pnl == Decimal(gross) - Decimal("0.4")
