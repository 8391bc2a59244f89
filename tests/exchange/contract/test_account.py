"""Account reads: configuration (posMode), balance and its frozen amounts, positions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange import Balance, BalanceDetail
from tests.exchange.contract.venue import SIM_NET_CROSS, Venue

pytestmark = pytest.mark.contract


def _usdt(balance: Balance) -> BalanceDetail:
    return next(d for d in balance.details if d.ccy == "USDT")


def test_account_config_names_a_position_mode(venue: Venue) -> None:
    config = venue.client.get_account_config()
    assert config.posMode in ("long_short_mode", "net_mode")
    assert config.uid
    assert venue.pos_side == ("long" if config.posMode == "long_short_mode" else "net")


@pytest.mark.sim_only
def test_the_account_mode_decides_the_side_a_buy_opens(venue: Venue) -> None:
    """OKX demo and the plain simulator are long/short; the net-cross simulator is net mode."""
    expected = "net_mode" if venue.name == SIM_NET_CROSS else "long_short_mode"
    assert venue.client.get_account_config().posMode == expected
    assert venue.pos_side == ("net" if expected == "net_mode" else "long")


def test_balance_lists_usdt_with_equity_and_available_amounts(venue: Venue) -> None:
    balance = venue.client.get_balance()
    usdt = _usdt(balance)
    assert balance.totalEq is not None and balance.totalEq > 0
    assert usdt.eq is not None and usdt.availBal is not None and usdt.cashBal is not None
    assert 0 < usdt.availBal <= usdt.eq


def test_a_resting_order_freezes_margin_until_it_is_canceled(venue: Venue) -> None:
    def frozen() -> Decimal:
        return _usdt(venue.client.get_balance()).ordFrozen or Decimal(0)

    before = frozen()
    ord_id = venue.place_buy(venue.buy_px(Decimal("0.05")))
    assert frozen() > before
    venue.client.cancel_order(venue.symbol, ord_id)
    assert venue.settle(frozen, lambda amount: amount == before) == before


def test_no_open_position_before_trading(venue: Venue) -> None:
    assert all(p.pos == 0 for p in venue.client.get_positions(venue.symbol))
