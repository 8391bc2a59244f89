"""Fills, positions and closing: what the account shows once orders trade."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange import OkxApiError, OkxFill, OkxIncorrectOrderState
from tests.exchange.contract.venue import Venue

pytestmark = pytest.mark.contract

MARKET = Decimal("3000")  # the simulator's start price


def _mine(fills: list[OkxFill], ord_ids: set[str]) -> list[OkxFill]:
    return [f for f in fills if f.ordId in ord_ids]


def test_fills_page_newest_first_by_bill_id(venue: Venue) -> None:
    ord_ids = {venue.place_market_buy() for _ in range(3)}
    assert {venue.final_order(ord_id).state for ord_id in ord_ids} == {"filled"}

    page = _mine(venue.client.list_fills(venue.symbol), ord_ids)
    bills = [int(f.billId) for f in page]
    assert len(page) >= 3 and bills == sorted(bills, reverse=True)
    assert {(f.execType, f.side) for f in page} == {("T", "buy")}
    newest = venue.client.list_fills(venue.symbol, limit=1)
    assert [f.billId for f in newest] == [page[0].billId]
    older = venue.client.list_fills(venue.symbol, after=page[0].billId, limit=2)
    assert [f.billId for f in older] == [f.billId for f in page[1:3]]

    since = venue.client.list_fills_since(venue.symbol, page[-1].billId)
    assert [f.billId for f in _mine(since, ord_ids)] == [f.billId for f in reversed(page[:-1])]


@pytest.mark.sim_only
def test_orders_and_fills_read_the_same_with_empty_fields_sent_or_left_out(venue: Venue) -> None:
    """A captured SWAP fill had no subType and no tradeQuoteCcy: the client reads both forms alike."""
    filled = venue.place_market_buy()
    resting = venue.place_buy(venue.buy_px(Decimal("0.05")))
    orders = [venue.client.get_order(venue.symbol, ord_id) for ord_id in (filled, resting)]
    fills = _mine(venue.client.list_fills(venue.symbol), {filled})
    pending = venue.client.list_open_orders(venue.symbol)
    venue.controls.quirks(absent_optional_fields=True)
    sparse_fills = _mine(venue.client.list_fills(venue.symbol), {filled})
    assert [venue.client.get_order(venue.symbol, ord_id) for ord_id in (filled, resting)] == orders
    assert sparse_fills == fills and fills
    assert venue.client.list_open_orders(venue.symbol) == pending and pending
    assert ("subType" in fills[0].raw, "subType" in sparse_fills[0].raw) == (True, False)  # both forms seen


@pytest.mark.sim_only
def test_fills_agree_with_acc_fill_sz_as_the_price_moves_through(venue: Venue) -> None:
    px, sz = MARKET - 10, Decimal("1")
    ord_id = venue.place_buy(px, sz=sz)

    venue.controls.move_price(px)  # one step fills half (the simulator's fill_ratio)
    partial = venue.client.get_order(venue.symbol, ord_id)
    assert (partial.state, partial.accFillSz) == ("partially_filled", Decimal("0.5"))

    venue.controls.advance(1)
    venue.client.sync_time()
    order = venue.client.get_order(venue.symbol, ord_id)
    assert (order.state, order.accFillSz, order.avgPx) == ("filled", sz, px)

    fills = _mine(venue.client.list_fills(venue.symbol), {ord_id})
    since = _mine(venue.client.list_fills_since(venue.symbol, None), {ord_id})
    assert sum(f.fillSz for f in fills) == sum(f.fillSz for f in since) == order.accFillSz
    assert sorted(f.tradeId for f in fills) == sorted(f.tradeId for f in since)
    assert [f.billId for f in since] == sorted((f.billId for f in since), key=int)
    assert {(f.fillPx, f.execType, f.feeCcy, f.side) for f in fills} == {(px, "M", "USDT", "buy")}
    assert (order.fillSz, order.tradeId) == (fills[0].fillSz, fills[0].tradeId)  # the latest fill
    assert venue.client.list_fills_since(venue.symbol, since[0].billId) == since[1:]


@pytest.mark.sim_only
def test_position_avg_px_and_fees_add_up_over_fills_at_two_prices(venue: Venue) -> None:
    rungs = {MARKET - 10: Decimal("1"), MARKET - 30: Decimal("3")}
    ord_ids = {venue.place_buy(px, sz=sz) for px, sz in rungs.items()}
    venue.controls.move_price(MARKET - 30)
    venue.controls.advance(3)
    venue.client.sync_time()

    orders = [venue.client.get_order(venue.symbol, ord_id) for ord_id in ord_ids]
    assert {o.state for o in orders} == {"filled"}
    fills = _mine(venue.client.list_fills(venue.symbol), ord_ids)
    fee = sum(f.fee for f in fills)
    assert fee < 0 and fee == sum(o.fee or 0 for o in orders)

    [position] = [p for p in venue.client.get_positions(venue.symbol) if p.pos != 0]
    assert (position.posSide, position.mgnMode, position.pos) == (venue.pos_side, venue.td_mode, Decimal("4"))
    assert position.avgPx == sum(px * sz for px, sz in rungs.items()) / 4
    assert position.markPx == MARKET - 30
    assert position.upl == (position.markPx - position.avgPx) * position.pos * venue.instrument.ctVal
    assert Decimal(position.raw["fee"]) == fee


def test_close_position_flattens_a_long(venue: Venue) -> None:
    assert venue.final_order(venue.place_market_buy()).state == "filled"
    [position] = [p for p in venue.client.get_positions(venue.symbol) if p.pos != 0]
    assert position.pos == venue.instrument.minSz

    answer = venue.client.close_position(venue.symbol, position.posSide, position.mgnMode)

    assert (answer["instId"], answer["posSide"]) == (venue.symbol, position.posSide)
    remaining = venue.settle(
        lambda: [p for p in venue.client.get_positions(venue.symbol) if p.pos != 0], lambda ps: not ps
    )
    assert remaining == []


@pytest.mark.sim_only
def test_close_position_while_a_close_order_rests_is_refused_as_the_error_table_says(venue: Venue) -> None:
    """Facts 6.14: refused unless autoCxl; the code is 51115 (HTTP 429 in the error table) or 51117."""
    venue.place_market_buy(Decimal("2"))
    venue.client.place_order(
        venue.symbol,
        side="sell",
        ord_type="post_only",
        sz=Decimal("1"),
        px=MARKET + 100,
        pos_side=venue.pos_side,
        td_mode=venue.td_mode,
        reduce_only=True if venue.pos_side == "net" else None,  # in long/short mode a close is reduce-only
    )
    with pytest.raises(OkxApiError) as refused:
        venue.client.close_position(venue.symbol, venue.pos_side, venue.td_mode)
    assert (refused.value.code, refused.value.http_status) in {("51115", 429), ("51117", 200)}


@pytest.mark.sim_only
def test_a_cancel_in_the_app_shows_as_user_canceled_and_cannot_be_canceled_again(venue: Venue) -> None:
    ord_id = venue.place_buy(MARKET - 10)
    venue.controls.user_cancel(ord_id)
    order = venue.client.get_order(venue.symbol, ord_id)
    assert (order.state, order.cancelSource) == ("canceled", "1")
    with pytest.raises(OkxIncorrectOrderState):
        venue.client.cancel_order(venue.symbol, ord_id)


@pytest.mark.sim_only
def test_a_close_in_the_app_leaves_no_position_and_a_filled_market_sell(venue: Venue) -> None:
    venue.place_market_buy(Decimal("2"))
    venue.controls.user_close(venue.pos_side)
    assert [p for p in venue.client.get_positions(venue.symbol) if p.pos != 0] == []
    sells = [f for f in venue.client.list_fills(venue.symbol) if f.side == "sell"]
    assert sum(f.fillSz for f in sells) == Decimal("2")
