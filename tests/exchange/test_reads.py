"""Reads: request parameters, pagination, parsing into records, and bounded retries."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from exchange import (
    OkxApiError,
    OkxInvalidPayload,
    OkxInvalidRequest,
    OkxOrderNotFound,
    OkxServiceUnavailable,
    OkxTransportError,
)
from tests.exchange.okx_fakes import (
    BTC_SWAP,
    ETH_SWAP,
    T0,
    FakeClock,
    FakeSession,
    fill_obj,
    make_client,
    okx,
    order_obj,
    raw,
)

SYMBOL = "ETH-USDT-SWAP"


def _orders(first_id: int, count: int) -> list[dict[str, str]]:
    """`count` pending orders, newest (highest ordId) first."""
    return [order_obj(ordId=str(first_id - i), clOrdId=f"c{first_id - i}") for i in range(count)]


def test_open_orders_ask_orders_pending_for_the_swap_instrument() -> None:
    session = FakeSession(okx([order_obj()]))
    orders = make_client(session).list_open_orders(SYMBOL)
    assert session.paths() == ["/api/v5/trade/orders-pending?instType=SWAP&instId=ETH-USDT-SWAP&limit=100"]
    assert [o.ordId for o in orders] == ["1752588852617379840"]


def test_open_orders_follow_pages_with_after_last_ord_id_until_a_short_page() -> None:
    session = FakeSession(okx(_orders(9000, 100)), okx(_orders(8900, 100)), okx(_orders(8800, 3)))
    orders = make_client(session).list_open_orders(SYMBOL)
    assert len(orders) == 203 and len({o.ordId for o in orders}) == 203
    assert [session.query(i).get("after") for i in range(3)] == [None, "8901", "8801"]
    assert all(session.query(i)["limit"] == "100" for i in range(3))


def test_open_orders_for_every_instrument_send_no_filter() -> None:
    session = FakeSession(okx([]))
    assert make_client(session).list_open_orders(None) == []
    assert session.paths() == ["/api/v5/trade/orders-pending?limit=100"]


def test_open_orders_pagination_that_does_not_advance_is_invalid() -> None:
    page = okx(_orders(9000, 100))
    with pytest.raises(OkxInvalidPayload, match="did not advance"):
        make_client(FakeSession(page, page, page)).list_open_orders(SYMBOL)


def test_order_parses_into_a_typed_record() -> None:
    o = make_client(FakeSession(okx([order_obj()]))).get_order(SYMBOL, ord_id="1752588852617379840")
    assert (o.instId, o.ordId, o.clOrdId, o.side, o.posSide, o.tdMode, o.state) == (
        SYMBOL,
        "1752588852617379840",
        "ertw1700000000000r1a0",
        "buy",
        "long",
        "isolated",
        "live",
    )
    assert o.px == Decimal("2991.00") and o.sz == Decimal("0.33") and o.accFillSz == Decimal(0)
    assert (o.avgPx, o.fillPx, o.fillTime, o.tradeId, o.cancelSource) == (None, None, None, None, None)
    assert o.reduceOnly is False and o.cTime == 1700000000123 and o.raw["lever"] == "3"


def test_get_order_by_ord_id() -> None:
    session = FakeSession(okx([order_obj()]))
    make_client(session).get_order(SYMBOL, ord_id="1752588852617379840")
    assert session.paths() == ["/api/v5/trade/order?instId=ETH-USDT-SWAP&ordId=1752588852617379840"]


def test_get_order_by_client_order_id() -> None:
    session = FakeSession(okx([order_obj()]))
    order = make_client(session).get_order(SYMBOL, client_order_id="ertw1700000000000r1a0")
    assert session.paths() == ["/api/v5/trade/order?instId=ETH-USDT-SWAP&clOrdId=ertw1700000000000r1a0"]
    assert order.clOrdId == "ertw1700000000000r1a0"


def test_get_order_of_an_unknown_order_raises_order_not_found() -> None:
    session = FakeSession(okx([], code="51603", msg="Order does not exist"))
    with pytest.raises(OkxOrderNotFound) as info:
        make_client(session).get_order(SYMBOL, client_order_id="ertw1r1a0")
    assert (info.value.code, info.value.msg, info.value.http_status) == ("51603", "Order does not exist", 200)
    assert len(session.sent) == 1


def test_get_order_answered_with_another_order_is_invalid() -> None:
    session = FakeSession(okx([order_obj(clOrdId="someoneelse")]))
    with pytest.raises(OkxInvalidPayload):
        make_client(session).get_order(SYMBOL, client_order_id="ertw1700000000000r1a0")


def test_get_order_needs_an_id() -> None:
    with pytest.raises(OkxInvalidRequest):
        make_client(FakeSession()).get_order(SYMBOL)


def test_fills_parse_size_price_ids_fee_and_times() -> None:
    session = FakeSession(okx([fill_obj(680800019754098688)]))
    [f] = make_client(session).list_fills(SYMBOL)
    assert (f.fillSz, f.fillPx, f.fee) == (Decimal("0.11"), Decimal("2991"), Decimal("-0.0065802"))
    assert (f.tradeId, f.ordId, f.clOrdId, f.billId) == (
        "9680800019754098688",
        "1752588852617379840",
        "ertw1700000000000r1a0",
        "680800019754098688",
    )
    assert (f.fillTime, f.ts, f.feeCcy, f.side, f.posSide, f.execType) == (
        1700000001000,
        1700000001002,
        "USDT",
        "buy",
        "long",
        "M",
    )


def test_list_fills_sends_the_bill_id_cursor() -> None:
    session = FakeSession(okx([]))
    make_client(session).list_fills(SYMBOL, before="100", limit=20)
    assert session.query() == {"instType": "SWAP", "instId": SYMBOL, "before": "100", "limit": "20"}


def _fills(newest: int, count: int) -> list[dict[str, str]]:
    return [fill_obj(newest - i) for i in range(count)]


def test_fills_since_pages_from_the_newest_down_to_the_cursor_and_returns_ascending() -> None:
    session = FakeSession(okx(_fills(5000, 100)), okx(_fills(4900, 100)))
    fills = make_client(session).list_fills_since(SYMBOL, "4850")
    assert [f.billId for f in fills] == [str(b) for b in range(4851, 5001)]
    assert [session.query(i).get("after") for i in range(2)] == [None, "4901"]


def test_fills_since_without_a_cursor_reads_until_a_short_page() -> None:
    session = FakeSession(okx(_fills(5000, 100)), okx(_fills(4900, 7)))
    fills = make_client(session).list_fills_since(SYMBOL, None)
    assert len(fills) == 107 and fills[0].billId == "4894" and fills[-1].billId == "5000"


def test_fills_since_stops_after_one_page_when_the_cursor_is_on_it() -> None:
    session = FakeSession(okx(_fills(5000, 100)))
    assert [f.billId for f in make_client(session).list_fills_since(SYMBOL, "4998")] == ["4999", "5000"]
    assert len(session.sent) == 1


def test_balance_parses_totals_and_currency_details() -> None:
    detail = {
        "ccy": "USDT",
        "eq": "4992.89",
        "cashBal": "4850.43",
        "availBal": "4834.31",
        "availEq": "",
        "frozenBal": "158.573",
        "ordFrozen": "0",
        "upl": "-7.5456",
        "uTime": "1705449605015",
        "collateralEnabled": False,
    }
    session = FakeSession(okx([{"totalEq": "55837.43", "uTime": "1705474164160", "details": [detail]}]))
    balance = make_client(session).get_balance()
    assert session.paths() == ["/api/v5/account/balance"]
    assert balance.totalEq == Decimal("55837.43") and balance.uTime == 1705474164160
    [d] = balance.details
    assert (d.ccy, d.eq, d.availBal, d.frozenBal, d.availEq) == (
        "USDT",
        Decimal("4992.89"),
        Decimal("4834.31"),
        Decimal("158.573"),
        None,
    )


def test_positions_parse_and_filter_by_symbol() -> None:
    pos = {
        "instType": "SWAP",
        "instId": SYMBOL,
        "mgnMode": "isolated",
        "posSide": "long",
        "pos": "3.34",
        "avgPx": "2991",
        "upl": "1.2",
        "markPx": "2994.6",
        "liqPx": "",
        "cTime": "1700000001000",
        "uTime": "1700000002000",
        "posId": "1",
    }
    session = FakeSession(okx([pos]), okx([]))
    client = make_client(session)
    [p] = client.get_positions(SYMBOL)
    assert (p.instId, p.posSide, p.mgnMode, p.pos, p.avgPx, p.liqPx, p.uTime) == (
        SYMBOL,
        "long",
        "isolated",
        Decimal("3.34"),
        Decimal("2991"),
        None,
        1700000002000,
    )
    assert client.get_positions() == []
    assert session.paths() == [
        "/api/v5/account/positions?instType=SWAP&instId=ETH-USDT-SWAP",
        "/api/v5/account/positions",
    ]


def test_instrument_is_read_from_public_instruments() -> None:
    session = FakeSession(okx([BTC_SWAP, ETH_SWAP]))
    inst = make_client(session).get_instrument(SYMBOL)
    assert session.paths() == ["/api/v5/public/instruments?instType=SWAP&instId=ETH-USDT-SWAP"]
    assert "OK-ACCESS-SIGN" not in session.sent[0].headers
    assert (inst.ctVal, inst.ctMult, inst.tickSz, inst.lotSz, inst.minSz, inst.maxLmtSz) == (
        Decimal("0.1"),
        Decimal(1),
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal(1000000),
    )
    assert (inst.ctValCcy, inst.state, inst.settleCcy, inst.instType) == ("ETH", "live", "USDT", "SWAP")
    assert inst.lever == Decimal(100)  # the instrument's maximum leverage


def test_swap_instrument_without_contract_value_is_invalid() -> None:
    with pytest.raises(OkxInvalidPayload, match="ctVal"):
        make_client(FakeSession(okx([{**ETH_SWAP, "ctVal": ""}]))).get_instrument(SYMBOL)


def test_candles_are_returned_oldest_first() -> None:
    rows = [
        [str(1700000000000 - i * 900_000), "3000", "3010", "2990", "3005", "12", "1.2", "3600", c]
        for i, c in enumerate(("0", "1", "1"))
    ]
    session = FakeSession(okx(rows))
    candles = make_client(session).get_candles(SYMBOL, "15m", limit=3)
    assert session.paths() == ["/api/v5/market/candles?instId=ETH-USDT-SWAP&bar=15m&limit=3"]
    assert [c.ts for c in candles] == sorted(c.ts for c in candles)
    assert [c.confirm for c in candles] == [True, True, False]
    assert candles[0].h == Decimal("3010") and candles[0].raw[8] == "1"


def test_account_config_gives_the_position_mode() -> None:
    config = make_client(
        FakeSession(
            okx(
                [{"uid": "44705892343619584", "acctLv": "2", "posMode": "long_short_mode", "autoLoan": False}]
            )
        )
    ).get_account_config()
    assert (config.uid, config.acctLv, config.posMode) == ("44705892343619584", "2", "long_short_mode")


def test_server_time_is_milliseconds() -> None:
    assert make_client(FakeSession(okx([{"ts": "1597026383085"}]))).get_server_time() == 1597026383085


def test_reads_retry_busy_rate_limit_5xx_and_timeouts_then_succeed() -> None:
    clock = FakeClock()
    session = FakeSession(
        raw(503, {"code": "50001", "msg": "Service temporarily unavailable", "data": []}),
        raw(429, {"msg": "Too Many Requests", "code": "50011"}),
        requests.exceptions.ReadTimeout("read timed out"),
        okx([{"ts": "1700000000000"}]),
    )
    assert make_client(session, clock=clock).get_server_time() == 1700000000000
    assert len(session.sent) == 4
    assert clock.slept == [0.25, 0.5, 1.0]


def test_reads_give_up_after_bounded_retries() -> None:
    clock = FakeClock()
    session = FakeSession(always=raw(503, {"code": "50001", "msg": "Service temporarily unavailable"}))
    with pytest.raises(OkxServiceUnavailable):
        make_client(session, clock=clock).get_balance()
    assert len(session.sent) == 4 and clock.now - T0 == pytest.approx(1.75)


def test_reads_retry_connection_errors_then_raise_transport_error() -> None:
    session = FakeSession(always=requests.exceptions.ConnectionError("connection reset"))
    with pytest.raises(OkxTransportError):
        make_client(session).list_open_orders(SYMBOL)
    assert len(session.sent) == 4


def test_reads_do_not_retry_an_explicit_refusal() -> None:
    session = FakeSession(okx([], code="51001", msg="Instrument ID does not exist"), always=okx([]))
    with pytest.raises(OkxApiError, match="51001"):
        make_client(session).list_open_orders(SYMBOL)
    assert len(session.sent) == 1


def test_leverage_info_asks_for_the_instrument_and_margin_mode() -> None:
    rows = [
        {"ccy": "", "instId": SYMBOL, "lever": "10", "mgnMode": "isolated", "posSide": "long"},
        {"ccy": "", "instId": SYMBOL, "lever": "3", "mgnMode": "isolated", "posSide": "short"},
    ]
    session = FakeSession(okx(rows))
    levers = make_client(session).get_leverage(SYMBOL, "isolated")
    assert session.paths() == ["/api/v5/account/leverage-info?instId=ETH-USDT-SWAP&mgnMode=isolated"]
    assert [(x.posSide, x.lever) for x in levers] == [("long", Decimal(10)), ("short", Decimal(3))]
