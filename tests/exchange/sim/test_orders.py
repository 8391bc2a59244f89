"""Placing, cancelling and reading orders: OKX's envelopes, codes and order-type rules."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

ETH = "ETH-USDT-SWAP"
BUY_LONG = {"side": "buy", "posSide": "long"}


def _ack(envelope: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = envelope["data"][0]
    return item


def _resting_buy(okx: RawOkx, px: str = "2990", sz: str = "1", **extra: str) -> str:
    ack = _ack(okx.place(**BUY_LONG, ordType="post_only", px=px, sz=sz, **extra))
    assert ack["sCode"] == "0", ack
    ord_id: str = ack["ordId"]
    return ord_id


def test_a_placed_order_is_acknowledged_in_okx_shape(okx: RawOkx) -> None:
    envelope = okx.place(**BUY_LONG, ordType="limit", px="2990", sz="1", clOrdId="abc123", tag="t1")
    assert envelope["code"] == "0"
    assert envelope["msg"] == ""
    assert len(envelope["inTime"]) == 16 and envelope["outTime"] >= envelope["inTime"]
    ack = _ack(envelope)
    assert set(ack) == {"clOrdId", "ordId", "tag", "ts", "sCode", "sMsg", "subCode"}
    assert (ack["clOrdId"], ack["tag"], ack["sCode"], ack["subCode"]) == ("abc123", "t1", "0", "")
    assert ack["ordId"].isdigit() and len(ack["ordId"]) == 19
    order = okx.order(ack["ordId"])
    assert order["state"] == "live"
    assert (order["accFillSz"], order["avgPx"], order["fillPx"], order["cancelSource"]) == ("0", "", "", "")
    assert (order["px"], order["sz"], order["posSide"], order["tdMode"]) == ("2990", "1", "long", "isolated")
    assert order["cTime"] == order["uTime"] == ack["ts"]
    assert all(isinstance(v, str) for k, v in order.items() if k not in ("attachAlgoOrds", "linkedAlgoOrd"))


def test_optional_fields_sent_empty_or_null_count_as_absent(okx: RawOkx) -> None:
    sdk_style = {
        "instId": ETH, "tdMode": "isolated", "side": "buy", "posSide": "long", "ordType": "post_only",
        "px": "2990", "sz": "1", "ccy": "", "clOrdId": "", "tag": "", "reduceOnly": "", "tgtCcy": "",
        "stpMode": "", "attachAlgoOrds": None,
    }  # fmt: skip
    ack = _ack(okx.post("/api/v5/trade/order", sdk_style))
    assert ack["sCode"] == "0"
    assert ack["clOrdId"] == ""


@pytest.mark.parametrize(
    ("fields", "code", "msg"),
    [
        ({"sz": "0.015"}, "51121", None),
        ({"sz": "0.001"}, "51121", None),
        ({"sz": "0"}, "51020", None),
        ({"sz": "1e1"}, "51000", "Parameter sz error"),
        ({"px": "2990.005"}, "51000", "Parameter px error"),
        ({"px": "-1"}, "51000", "Parameter px error"),
        ({"clOrdId": "a" * 33}, "51000", "Parameter clOrdId error"),
        ({"clOrdId": "rung-1"}, "51000", "Parameter clOrdId error"),
        ({"clOrdId": "rung_1"}, "51000", "Parameter clOrdId error"),
        ({"posSide": "net"}, "51000", "Parameter posSide error"),
        ({"posSide": ""}, "51000", "Parameter posSide error"),
        ({"instId": "DOGE-USDT-SWAP"}, "51001", None),
        ({"sz": "100000"}, "51008", None),
    ],
)
def test_order_rule_violations_get_their_item_code_in_a_code_1_envelope(
    okx: RawOkx, fields: dict[str, str], code: str, msg: str | None
) -> None:
    order = {**BUY_LONG, "ordType": "post_only", "px": "2990", "sz": "1", **fields}
    response = okx.send(
        "POST", "/api/v5/trade/order", json.dumps({"instId": ETH, "tdMode": "isolated", **order})
    )
    assert response.status_code == 200
    envelope = response.json()
    assert (envelope["code"], envelope["msg"]) == ("1", "All operations failed")
    ack = _ack(envelope)
    assert (ack["sCode"], ack["ordId"]) == (code, "")
    if msg is not None:
        assert ack["sMsg"] == msg


def test_sizes_are_judged_against_the_lot() -> None:
    with Simulator(volatility="0", rate_limits=False) as sim:
        okx = RawOkx(sim)

        @given(lots=st.integers(min_value=1, max_value=500), extra=st.integers(min_value=1, max_value=9))
        @settings(max_examples=40, deadline=None)
        def check(lots: int, extra: int) -> None:
            sim.reset()
            good = Decimal(lots) * Decimal("0.01")
            bad = good + Decimal(extra) / 1000
            assert _ack(okx.place(**BUY_LONG, ordType="post_only", px="2990", sz=str(good)))["sCode"] == "0"
            assert (
                _ack(okx.place(**BUY_LONG, ordType="post_only", px="2990", sz=str(bad)))["sCode"] == "51121"
            )

        check()


@pytest.mark.parametrize("missing", ["instId", "side", "ordType", "sz", "tdMode"])
def test_a_malformed_request_is_a_top_level_51000_with_http_400(okx: RawOkx, missing: str) -> None:
    order = {"instId": ETH, "tdMode": "isolated", **BUY_LONG, "ordType": "limit", "px": "2990", "sz": "1"}
    del order[missing]
    response = okx.send("POST", "/api/v5/trade/order", json.dumps(order))
    assert response.status_code == 400
    assert response.json() == {"code": "51000", "data": [], "msg": f"Parameter {missing} error"}


def test_post_bodies_must_be_present_and_json(okx: RawOkx) -> None:
    empty = okx.send("POST", "/api/v5/trade/order", "")
    assert (empty.status_code, empty.json()["code"]) == (400, "50000")
    broken = okx.send("POST", "/api/v5/trade/order", '{"instId": ')
    assert (broken.status_code, broken.json()) == (
        400,
        {"code": "50002", "data": [], "msg": "JSON syntax error"},
    )
    form = okx.send(
        "POST", "/api/v5/trade/order", "{}", **{"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (form.status_code, form.json()["code"]) == (400, "50006")


def test_duplicate_client_order_id_among_pending_orders_is_51016_until_the_first_is_terminal(
    okx: RawOkx,
) -> None:
    first = _resting_buy(okx, clOrdId="rung1")
    assert (
        _ack(okx.place(**BUY_LONG, ordType="post_only", px="2980", sz="1", clOrdId="rung1"))["sCode"]
        == "51016"
    )
    okx.post("/api/v5/trade/cancel-order", {"instId": ETH, "ordId": first})
    second = _resting_buy(okx, clOrdId="rung1")
    latest = okx.get(f"/api/v5/trade/order?instId={ETH}&clOrdId=rung1")["data"][0]
    assert latest["ordId"] == second != first


def test_a_batch_reports_each_item_and_code_2_when_some_fail(okx: RawOkx) -> None:
    base = {"instId": ETH, "tdMode": "isolated", **BUY_LONG, "ordType": "post_only", "sz": "1"}
    batch = [
        {**base, "px": "2990", "clOrdId": "b1"},
        {**base, "px": "2980", "clOrdId": "b1"},
        {**base, "px": "2970.001", "clOrdId": "b3"},
        {**base, "px": "2970", "clOrdId": "b4"},
    ]
    envelope = okx.post("/api/v5/trade/batch-orders", batch)
    assert (envelope["code"], envelope["msg"]) == ("2", "Bulk operation partially successful")
    assert [a["sCode"] for a in envelope["data"]] == ["0", "51016", "51000", "0"]
    assert [a["clOrdId"] for a in envelope["data"]] == ["b1", "b1", "b3", "b4"]
    all_bad = okx.post(
        "/api/v5/trade/batch-orders", [{**base, "px": "1.001"}, {**base, "sz": "0.5", "px": "x"}]
    )
    assert (all_bad["code"], all_bad["msg"]) == ("1", "")  # a batch place with every item failed


def test_batches_over_20_orders_are_refused(okx: RawOkx) -> None:
    base = {"instId": ETH, "tdMode": "isolated", **BUY_LONG, "ordType": "post_only", "px": "2990", "sz": "1"}
    place = okx.send("POST", "/api/v5/trade/batch-orders", json.dumps([base] * 21))
    assert (place.status_code, place.json()["code"], place.json()["data"]) == (200, "51111", [])
    cancel = okx.send(
        "POST", "/api/v5/trade/cancel-batch-orders", json.dumps([{"instId": ETH, "ordId": "1"}] * 21)
    )
    assert (cancel.status_code, cancel.json()["code"]) == (400, "51406")
    assert okx.get("/api/v5/trade/orders-pending")["data"] == []


def test_post_only_that_would_cross_is_accepted_then_canceled_with_source_31(okx: RawOkx) -> None:
    ack = _ack(okx.place(**BUY_LONG, ordType="post_only", px="3000", sz="1", clOrdId="cross"))
    assert ack["sCode"] == "0"
    order = okx.order(ack["ordId"])
    assert (order["state"], order["cancelSource"], order["accFillSz"]) == ("canceled", "31", "0")
    assert okx.get("/api/v5/trade/fills")["data"] == []


def test_ioc_that_cannot_fill_is_canceled_with_source_14(okx: RawOkx) -> None:
    order = okx.order(_ack(okx.place(**BUY_LONG, ordType="ioc", px="2990", sz="1"))["ordId"])
    assert (order["state"], order["cancelSource"], order["accFillSz"]) == ("canceled", "14", "0")


def test_fok_that_cannot_fill_is_canceled_with_source_13(okx: RawOkx) -> None:
    order = okx.order(_ack(okx.place(**BUY_LONG, ordType="fok", px="2990", sz="1"))["ordId"])
    assert (order["state"], order["cancelSource"]) == ("canceled", "13")


@pytest.mark.parametrize("ord_type", ["market", "limit", "ioc", "fok"])
def test_orders_that_take_liquidity_fill_at_once_as_taker(okx: RawOkx, ord_type: str) -> None:
    px = {} if ord_type == "market" else {"px": "3010"}
    order = okx.order(_ack(okx.place(**BUY_LONG, ordType=ord_type, sz="2", **px))["ordId"])
    assert (order["state"], order["accFillSz"], order["avgPx"], order["fillPx"]) == (
        "filled",
        "2",
        "3000",
        "3000",
    )
    fill = okx.get("/api/v5/trade/fills")["data"][0]
    assert fill["execType"] == "T"
    assert Decimal(fill["fee"]) == -Decimal("3000") * 2 * Decimal("0.1") * Decimal("0.0005")
    assert order["fee"] == fill["fee"]


def test_cancel_of_a_canceled_filled_or_unknown_order_is_51400(okx: RawOkx) -> None:
    resting = _resting_buy(okx)
    ok = okx.post("/api/v5/trade/cancel-order", {"instId": ETH, "ordId": resting})
    assert ok["code"] == "0"
    assert set(ok["data"][0]) == {"clOrdId", "ordId", "ts", "sCode", "sMsg"}
    assert okx.order(resting)["cancelSource"] == "1"
    filled = _ack(okx.place(**BUY_LONG, ordType="market", sz="1"))["ordId"]
    for target in (
        {"ordId": resting},
        {"ordId": filled},
        {"ordId": "1234567890123456789"},
        {"clOrdId": "nope"},
    ):
        envelope = okx.post("/api/v5/trade/cancel-order", {"instId": ETH, **target})
        assert envelope["code"] == "1"
        assert envelope["data"][0]["sCode"] == "51400"
        assert envelope["data"][0]["sMsg"].startswith("Order cancellation failed")


def test_get_order_of_an_unknown_order_is_a_top_level_51603(okx: RawOkx) -> None:
    response = okx.send("GET", f"/api/v5/trade/order?instId={ETH}&ordId=1234567890123456789")
    assert response.status_code == 200
    assert response.json() == {"code": "51603", "msg": "Order does not exist", "data": []}


def test_canceled_unfilled_orders_are_forgotten_after_about_two_hours(sim: Simulator, okx: RawOkx) -> None:
    ord_id = _resting_buy(okx)
    okx.post("/api/v5/trade/cancel-order", {"instId": ETH, "ordId": ord_id})
    sim.advance(3600)
    assert okx.order(ord_id)["state"] == "canceled"
    sim.advance(3601)
    assert okx.get(f"/api/v5/trade/order?instId={ETH}&ordId={ord_id}")["code"] == "51603"


def test_orders_pending_pages_newest_first_by_ord_id(okx: RawOkx) -> None:
    ids = [_resting_buy(okx, px=str(2900 + i)) for i in range(5)]
    listed = [o["ordId"] for o in okx.get("/api/v5/trade/orders-pending?instType=SWAP")["data"]]
    assert listed == ids[::-1]
    page = okx.get(f"/api/v5/trade/orders-pending?limit=2&after={ids[3]}")["data"]
    assert [o["ordId"] for o in page] == [ids[2], ids[1]]
    newer = okx.get(f"/api/v5/trade/orders-pending?limit=2&before={ids[1]}")["data"]
    assert [o["ordId"] for o in newer] == [ids[3], ids[2]]
    assert okx.get("/api/v5/trade/orders-pending?instId=BTC-USDT-SWAP")["data"] == []
    assert okx.get("/api/v5/trade/orders-pending?instType=SPOT")["data"] == []


def test_orders_history_holds_terminal_orders_and_needs_inst_type(okx: RawOkx) -> None:
    live = _resting_buy(okx)
    crossed = _ack(okx.place(**BUY_LONG, ordType="post_only", px="3000", sz="1"))["ordId"]
    history = okx.get("/api/v5/trade/orders-history?instType=SWAP")["data"]
    assert [o["ordId"] for o in history] == [crossed]
    assert live not in [o["ordId"] for o in history]
    response = okx.send("GET", "/api/v5/trade/orders-history")
    assert (response.status_code, response.json()["code"]) == (400, "51000")


def test_closing_orders_need_a_position_and_cannot_exceed_it(okx: RawOkx) -> None:
    sell_long = {"side": "sell", "posSide": "long"}
    assert _ack(okx.place(**sell_long, ordType="limit", px="3100", sz="1"))["sCode"] == "51169"
    okx.place(**BUY_LONG, ordType="market", sz="1")
    assert _ack(okx.place(**sell_long, ordType="limit", px="3100", sz="0.6"))["sCode"] == "0"
    assert _ack(okx.place(**sell_long, ordType="limit", px="3100", sz="0.5"))["sCode"] == "51112"
    position = okx.get("/api/v5/account/positions")["data"][0]
    assert (position["pos"], position["availPos"]) == ("1", "0.4")


def test_close_position_closes_everything_at_market(sim: Simulator, okx: RawOkx) -> None:
    okx.place(**BUY_LONG, ordType="market", sz="3")
    sim.set_price("3100")
    body = {"instId": ETH, "mgnMode": "isolated", "posSide": "long", "clOrdId": "exit1"}
    envelope = okx.post("/api/v5/trade/close-position", body)
    assert envelope == {
        "code": "0",
        "data": [{"clOrdId": "exit1", "instId": ETH, "posSide": "long", "tag": ""}],
        "msg": "",
    }
    assert okx.get("/api/v5/account/positions")["data"] == []
    close = okx.get(f"/api/v5/trade/order?instId={ETH}&clOrdId=exit1")["data"][0]
    assert (close["side"], close["ordType"], close["state"], close["avgPx"]) == (
        "sell",
        "market",
        "filled",
        "3100",
    )
    assert close["pnl"] == "30"  # (3100 - 3000) * 3 contracts * 0.1 ETH
    again = okx.post("/api/v5/trade/close-position", body)
    assert (again["code"], again["data"]) == ("51023", [])


def test_account_config_is_long_short_mode_futures_level(okx: RawOkx) -> None:
    config = okx.get("/api/v5/account/config")["data"][0]
    assert (config["posMode"], config["acctLv"]) == ("long_short_mode", "2")
    assert config["uid"]


def test_balance_freezes_order_margin_and_position_margin(sim: Simulator, okx: RawOkx) -> None:
    _resting_buy(okx, px="2990", sz="10")
    detail = okx.get("/api/v5/account/balance")["data"][0]["details"][0]
    assert (detail["ccy"], detail["cashBal"], detail["ordFrozen"]) == ("USDT", "100000", "299")
    assert (detail["frozenBal"], detail["availBal"]) == ("299", "99701")
    okx.place(**BUY_LONG, ordType="market", sz="10")  # margin 300 at 3000, taker fee 1.5
    detail = okx.get("/api/v5/account/balance")["data"][0]["details"][0]
    assert (detail["cashBal"], detail["frozenBal"], detail["availBal"]) == ("99998.5", "599", "99399.5")
    sim.set_price("3010")
    detail = okx.get("/api/v5/account/balance")["data"][0]["details"][0]
    assert (detail["upl"], detail["eq"]) == ("10", "100008.5")


def test_insufficient_margin_is_51008(okx: RawOkx) -> None:
    ack = _ack(okx.place(**BUY_LONG, ordType="post_only", px="2990", sz="3345"))  # 100,015.5 margin needed
    assert ack["sCode"] == "51008"
    assert _ack(okx.place(**BUY_LONG, ordType="post_only", px="2990", sz="3344"))["sCode"] == "0"


def test_a_cancel_batch_reports_each_item_with_code_2_when_some_fail(okx: RawOkx) -> None:
    live = _resting_buy(okx, clOrdId="keep1")
    envelope = okx.post(
        "/api/v5/trade/cancel-batch-orders",
        [{"instId": ETH, "ordId": live}, {"instId": ETH, "clOrdId": "ghost"}],
    )
    assert (envelope["code"], envelope["msg"]) == ("2", "Bulk operation partially successful")
    assert [(a["ordId"], a["clOrdId"], a["sCode"]) for a in envelope["data"]] == [
        (live, "keep1", "0"),
        ("", "ghost", "51400"),
    ]


def test_close_position_with_pending_close_orders_needs_auto_cancel(okx: RawOkx) -> None:
    okx.place(side="sell", posSide="short", ordType="market", sz="2")
    take_profit = _ack(okx.place(side="buy", posSide="short", ordType="limit", px="2900", sz="1"))["ordId"]
    body = {"instId": ETH, "mgnMode": "isolated", "posSide": "short"}
    assert okx.post("/api/v5/trade/close-position", body)["code"] == "51115"
    assert okx.post("/api/v5/trade/close-position", {**body, "autoCxl": True})["code"] == "0"
    assert okx.order(take_profit)["state"] == "canceled"
    assert okx.get("/api/v5/account/positions")["data"] == []


def test_a_short_position_gains_when_the_price_falls(sim: Simulator, okx: RawOkx) -> None:
    okx.place(side="sell", posSide="short", ordType="market", sz="1")
    sim.set_price("2900")
    position = okx.get("/api/v5/account/positions")["data"][0]
    assert (position["posSide"], position["avgPx"], position["upl"]) == ("short", "3000", "10")
    close = _ack(okx.place(side="buy", posSide="short", ordType="market", sz="1"))["ordId"]
    assert okx.order(close)["pnl"] == "10"
    fills = okx.get("/api/v5/trade/fills")["data"]
    assert [(f["side"], f["posSide"], f["subType"]) for f in fills] == [
        ("buy", "short", "6"),
        ("sell", "short", "4"),
    ]


def test_positions_and_balance_price_upl_at_mark_when_it_is_set_apart(sim: Simulator, okx: RawOkx) -> None:
    okx.place(**BUY_LONG, ordType="market", sz="10")  # 10 contracts of 0.1 ETH at 3000
    sim.set_price("3010", mark="3020", index="3015")
    position = okx.get("/api/v5/account/positions")["data"][0]
    assert (position["last"], position["markPx"], position["idxPx"]) == ("3010", "3020", "3015")
    assert (position["upl"], position["uplLastPx"], position["notionalUsd"]) == ("20", "10", "3020")
    ratios = (position["uplRatio"], position["uplRatioLastPx"])  # of the isolated margin, 300
    assert ratios == ("0.0666666666666667", "0.0333333333333333")
    assert okx.get("/api/v5/account/balance")["data"][0]["details"][0]["upl"] == "20"


@pytest.mark.parametrize("code", ["51020", "51120", "51000"])
def test_the_code_for_a_size_below_min_sz_is_a_quirk(sim: Simulator, okx: RawOkx, code: str) -> None:
    sim.set_quirks({"min_sz_code": code})
    assert _ack(okx.place(**BUY_LONG, ordType="market", sz="0"))["sCode"] == code


def _fill_buy(sim: Simulator, okx: RawOkx) -> str:
    ord_id = _resting_buy(okx, clOrdId="full1")
    sim.set_price("2985")
    return ord_id


@pytest.mark.parametrize("absent", [False, True])
def test_order_and_fill_objects_send_empty_fields_or_leave_them_out_by_quirk(
    sim: Simulator, okx: RawOkx, absent: bool
) -> None:
    """A captured 2023 SWAP fill had no subType and no tradeQuoteCcy: both forms are served."""
    sim.set_quirks({"absent_optional_fields": absent})
    ord_id = _fill_buy(sim, okx)
    unfilled = _resting_buy(okx, px="2900", clOrdId="")
    fill = okx.get(f"/api/v5/trade/fills?ordId={ord_id}")["data"][0]
    order = okx.order(unfilled)
    for shown in (
        fill,
        okx.get(f"/api/v5/trade/fills-history?instType=SWAP&ordId={ord_id}")["data"][0],
    ):
        assert ("subType" in shown, "tradeQuoteCcy" in shown, "feeRate" in shown) == (not absent,) * 3
        assert (shown["tradeId"], shown["fillSz"]) == (fill["tradeId"], "0.5")
    pending = okx.get("/api/v5/trade/orders-pending")["data"]
    for shown in (order, next(o for o in pending if o["ordId"] == unfilled)):
        assert ("avgPx" in shown, "clOrdId" in shown, "fillPx" in shown) == (not absent,) * 3
        assert (shown["state"], shown["accFillSz"], shown["px"]) == ("live", "0", "2900")
    assert ("" in (*fill.values(), *order.values())) is not absent
    assert {k for k, v in sim.state()["fills"][0].items() if v == ""} >= {"tradeQuoteCcy", "feeRate"}  # admin
