"""Order lifecycle: place, read back, list, batch, order types, cancel."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange import OkxIncorrectOrderState, OkxOrderNotFound, render_eth_entry_batch_payloads
from tests.exchange.contract.venue import Venue

pytestmark = pytest.mark.contract

BELOW = Decimal("0.05")  # far enough under the market that nothing fills during a test
ABOVE = Decimal("-0.01")  # a buy price over the market: it takes liquidity
ZERO = Decimal(0)


def test_post_only_below_market_rests_live_and_reads_back_by_either_id(venue: Venue) -> None:
    px, cl_id = venue.buy_px(BELOW), venue.client_order_id("rest")
    ack = venue.client.place_order(
        venue.symbol,
        side="buy",
        ord_type="post_only",
        sz=venue.instrument.minSz,
        px=px,
        pos_side=venue.pos_side,
        td_mode=venue.td_mode,
        client_order_id=cl_id,
    )
    assert (ack.ok, ack.sCode, ack.clOrdId) == (True, "0", cl_id)
    assert ack.ordId is not None and ack.ordId.isdigit()

    by_ord_id = venue.client.get_order(venue.symbol, ord_id=ack.ordId)
    by_cl_id = venue.client.get_order(venue.symbol, client_order_id=cl_id)
    assert by_ord_id == by_cl_id
    assert (by_ord_id.ordId, by_ord_id.clOrdId, by_ord_id.state) == (ack.ordId, cl_id, "live")
    assert (by_ord_id.ordType, by_ord_id.side, by_ord_id.posSide) == ("post_only", "buy", venue.pos_side)
    assert (by_ord_id.px, by_ord_id.sz, by_ord_id.accFillSz) == (px, venue.instrument.minSz, ZERO)
    assert by_ord_id.avgPx is None and by_ord_id.cancelSource is None
    assert by_ord_id.cTime <= by_ord_id.uTime


def test_open_orders_list_a_resting_order_until_it_is_canceled(venue: Venue) -> None:
    ord_id = venue.place_buy(venue.buy_px(BELOW))
    assert ord_id in {o.ordId for o in venue.client.list_open_orders(venue.symbol)}

    cancel = venue.client.cancel_order(venue.symbol, ord_id)
    assert cancel.ok and cancel.ordId == ord_id
    assert venue.final_order(ord_id).state == "canceled"
    assert ord_id not in {o.ordId for o in venue.client.list_open_orders(venue.symbol)}


@pytest.mark.sim_only
def test_open_orders_gather_every_page(venue: Venue) -> None:
    payloads = [venue.buy_payload(venue.buy_px(BELOW))] * 20
    acks = [ack for _ in range(6) for ack in venue.client.place_batch_orders(venue.symbol, payloads)]
    assert len(acks) == 120 and all(ack.ok for ack in acks)
    before = venue.controls.requests()

    listed = venue.client.list_open_orders(venue.symbol)

    assert sorted(o.ordId for o in listed) == sorted(ack.ordId or "" for ack in acks)
    assert venue.controls.sent_since(before) == {"GET /api/v5/trade/orders-pending": 2}  # 100, then 20


def test_a_client_order_id_is_reusable_once_terminal_and_reads_back_its_latest_order(venue: Venue) -> None:
    px, cl_id = venue.buy_px(BELOW), venue.client_order_id("again")
    first = venue.place_buy(px, client_order_id=cl_id)
    venue.client.cancel_order(venue.symbol, client_order_id=cl_id)
    assert venue.final_order(first).state == "canceled"

    second = venue.place_buy(px, client_order_id=cl_id)

    assert second != first
    assert venue.client.get_order(venue.symbol, client_order_id=cl_id).ordId == second
    assert venue.client.get_order(venue.symbol, ord_id=first).clOrdId == cl_id


@pytest.mark.sim_only
def test_a_canceled_order_without_fills_is_forgotten_after_about_two_hours(venue: Venue) -> None:
    ord_id = venue.place_buy(venue.buy_px(BELOW))
    venue.client.cancel_order(venue.symbol, ord_id)
    venue.controls.advance(2 * 3600 + 60)
    venue.client.sync_time()
    with pytest.raises(OkxOrderNotFound):
        venue.client.get_order(venue.symbol, ord_id)


def test_entry_ladder_batch_gets_one_accepted_ack_per_rung(venue: Venue) -> None:
    payloads = render_eth_entry_batch_payloads(
        reference_px=venue.buy_px(BELOW),
        notional_per_rung=Decimal("20"),
        instrument=venue.instrument,
        signal_ts_ms=venue.client.now_ms(),
        prefix="ct",
        td_mode=venue.td_mode,
        pos_side=venue.pos_side,
    )
    acks = venue.client.place_batch_orders(venue.symbol, payloads)
    assert [a.clOrdId for a in acks] == [p["clOrdId"] for p in payloads]
    assert all(a.ok and a.ordId for a in acks)
    open_orders = {o.clOrdId: o for o in venue.client.list_open_orders(venue.symbol)}
    for payload in payloads:
        order = open_orders[payload["clOrdId"]]
        assert (order.px, order.sz, order.state) == (Decimal(payload["px"]), Decimal(payload["sz"]), "live")


def test_post_only_that_would_cross_is_accepted_then_canceled_with_source_31(venue: Venue) -> None:
    order = venue.final_order(venue.place_buy(venue.buy_px(ABOVE)))
    assert (order.state, order.cancelSource, order.accFillSz) == ("canceled", "31", ZERO)


def test_market_buy_fills_completely_as_taker(venue: Venue) -> None:
    order = venue.final_order(venue.place_market_buy())
    assert (order.state, order.accFillSz, order.ordType) == ("filled", venue.instrument.minSz, "market")
    assert order.avgPx is not None and order.fee is not None and order.fee < 0


@pytest.mark.parametrize(("ord_type", "cancel_source"), [("ioc", "14"), ("fok", "13")])
def test_ioc_and_fok_that_cannot_fill_are_canceled_unfilled(
    venue: Venue, ord_type: str, cancel_source: str
) -> None:
    order = venue.final_order(venue.place_buy(venue.buy_px(BELOW), ord_type=ord_type))
    assert (order.state, order.accFillSz, order.cancelSource) == ("canceled", ZERO, cancel_source)


@pytest.mark.parametrize("ord_type", ["ioc", "fok", "limit"])
def test_priced_orders_through_the_market_fill_at_or_better_than_their_price(
    venue: Venue, ord_type: str
) -> None:
    px = venue.buy_px(ABOVE)
    order = venue.final_order(venue.place_buy(px, ord_type=ord_type))
    assert (order.state, order.accFillSz) == ("filled", venue.instrument.minSz)
    assert order.avgPx is not None and order.avgPx <= px


def test_cancel_twice_is_refused_with_incorrect_state_51400(venue: Venue) -> None:
    ord_id = venue.place_buy(venue.buy_px(BELOW))
    assert venue.client.cancel_order(venue.symbol, ord_id).ok
    assert venue.final_order(ord_id).state == "canceled"
    with pytest.raises(OkxIncorrectOrderState) as refused:
        venue.client.cancel_order(venue.symbol, ord_id)
    assert (refused.value.code, refused.value.s_code) == ("1", "51400")
    assert [a.sCode for a in refused.value.items] == ["51400"]


def test_cancel_of_a_filled_order_is_refused_with_51400(venue: Venue) -> None:
    ord_id = venue.place_market_buy()
    assert venue.final_order(ord_id).state == "filled"
    with pytest.raises(OkxIncorrectOrderState) as refused:
        venue.client.cancel_order(venue.symbol, ord_id)
    assert refused.value.s_code == "51400"


def test_cancel_batch_cancels_each_order_and_reports_the_unknown_one(venue: Venue) -> None:
    px, cl_id = venue.buy_px(BELOW), venue.client_order_id("cb")
    first, second = venue.place_buy(px), venue.place_buy(px, client_order_id=cl_id)
    acks = venue.client.cancel_batch_orders(
        venue.symbol, [(first, None), (None, cl_id), (None, venue.client_order_id("none"))]
    )
    assert [a.sCode for a in acks] == ["0", "0", "51400"]
    assert (acks[0].ordId, acks[1].clOrdId) == (first, cl_id)
    assert {venue.final_order(ord_id).state for ord_id in (first, second)} == {"canceled"}
