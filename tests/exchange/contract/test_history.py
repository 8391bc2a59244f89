"""Orders that vanish, history that remains, price-limit bands and other hands on the same account."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest

from exchange import OkxInvalidSizeOrPrice, OkxOrderNotFound
from tests.exchange.contract.venue import Venue

pytestmark = pytest.mark.contract

HOUR = 3600
DAY = 86400


def _history_ids(venue: Venue, archive: bool = False) -> list[str]:
    return [o.ordId for o in venue.client.list_orders_history(venue.symbol, archive=archive)]


def _advance(venue: Venue, seconds: int) -> None:
    venue.controls.advance(seconds)
    venue.client.sync_time()


def test_orders_history_and_its_archive_list_ended_orders_newest_first(venue: Venue) -> None:
    filled = venue.place_market_buy()
    crossed = venue.place_buy(venue.buy_px(Decimal("-0.01")))  # post_only above the market: canceled
    assert venue.final_order(filled).state == "filled"
    assert venue.final_order(crossed).state == "canceled"
    for archive in (False, True):
        ids = venue.settle(partial(_history_ids, venue, archive), {filled, crossed}.issubset)
        assert ids.index(crossed) < ids.index(filled)
        page = venue.client.list_orders_history(venue.symbol, archive=archive, after=crossed, limit=1)
        assert [o.ordId for o in page] == [filled]
        assert {o.state for o in venue.client.list_orders_history(venue.symbol, archive=archive)} <= {
            "filled", "canceled", "mmp_canceled",
        }  # fmt: skip


def test_a_buy_far_above_the_market_is_refused_with_51006(venue: Venue) -> None:
    with pytest.raises(OkxInvalidSizeOrPrice) as refused:
        venue.place_buy(venue.buy_px(Decimal("-0.5")), ord_type="limit")
    assert (refused.value.code, refused.value.s_code) == ("1", "51006")


@pytest.mark.sim_only
def test_the_simulators_band_is_5_percent_of_the_last_price(venue: Venue) -> None:
    band = venue.controls.read(f"/api/v5/public/price-limit?instId={venue.symbol}")["data"][0]
    assert (band["buyLmt"], band["sellLmt"], band["enabled"]) == ("3150", "2850", True)
    assert venue.place_buy(Decimal("3150"), ord_type="limit")
    with pytest.raises(OkxInvalidSizeOrPrice, match="max buy price: 3150 min sell price: 2850"):
        venue.place_buy(Decimal("3150.01"), ord_type="limit")


@pytest.mark.sim_only
def test_a_canceled_unfilled_order_vanishes_after_two_hours(venue: Venue) -> None:
    ord_id = venue.place_buy(venue.buy_px(Decimal("0.05")))
    venue.client.cancel_order(venue.symbol, ord_id)
    _advance(venue, HOUR + 59 * 60)
    assert venue.client.get_order(venue.symbol, ord_id).state == "canceled"
    assert _history_ids(venue) == [ord_id]
    _advance(venue, 2 * 60)
    with pytest.raises(OkxOrderNotFound):
        venue.client.get_order(venue.symbol, ord_id)
    assert _history_ids(venue) == _history_ids(venue, archive=True) == []


@pytest.mark.sim_only
def test_a_filled_order_and_its_fills_outlive_the_short_windows(venue: Venue) -> None:
    ord_id = venue.place_market_buy()
    fills = venue.client.list_fills(venue.symbol)
    assert [f.ordId for f in fills] == [ord_id]
    _advance(venue, 3 * DAY + 1)
    assert venue.client.list_fills(venue.symbol) == []
    history = venue.controls.read("/api/v5/trade/fills-history?instType=SWAP")["data"]
    assert [f["billId"] for f in history] == [fills[0].billId]
    _advance(venue, 5 * DAY)
    assert venue.client.get_order(venue.symbol, ord_id).state == "filled"
    assert _history_ids(venue) == []
    assert _history_ids(venue, archive=True) == [ord_id]
    _advance(venue, 85 * DAY)
    with pytest.raises(OkxOrderNotFound):
        venue.client.get_order(venue.symbol, ord_id)
    assert _history_ids(venue, archive=True) == []


@pytest.mark.sim_only
def test_someone_elses_hand_trades_share_the_position_and_close_position_takes_all(venue: Venue) -> None:
    mine = venue.place_market_buy(Decimal("1"))
    theirs = venue.controls.user_order("buy", Decimal("2"), td_mode=venue.td_mode)
    assert theirs["state"] == "filled" and theirs["ordId"] != mine
    (position,) = venue.client.get_positions(venue.symbol)
    assert (position.posSide, position.pos) == (venue.pos_side, Decimal("3"))
    resting = venue.controls.user_order(
        "buy", Decimal("1"), ord_type="limit", px="2990", client_order_id="app1", td_mode=venue.td_mode
    )
    assert [o.clOrdId for o in venue.client.list_open_orders(venue.symbol)] == ["app1"]
    assert venue.client.get_order(venue.symbol, client_order_id="app1").ordId == resting["ordId"]
    venue.client.close_position(venue.symbol, venue.pos_side, venue.td_mode)
    assert venue.client.get_positions(venue.symbol) == []
    closing = venue.client.list_orders_history(venue.symbol, limit=1)[0]
    assert (closing.side, closing.accFillSz, closing.state) == ("sell", Decimal("3"), "filled")
