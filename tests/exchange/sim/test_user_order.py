"""Someone else on the same account: orders placed by hand in the OKX app (/sim/user-order)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

ETH = "ETH-USDT-SWAP"


def _user_order(okx: RawOkx, **body: str) -> dict[str, str]:
    response = okx.admin("POST", "/sim/user-order", body)
    assert response.status_code == 200, response.text
    order: dict[str, str] = response.json()
    return order


def test_a_market_user_order_fills_at_once_with_the_defaults(okx: RawOkx) -> None:
    order = _user_order(okx, side="buy", sz="2")
    assert (order["instId"], order["ordType"], order["tdMode"], order["posSide"]) == (
        ETH, "market", "isolated", "long",
    )  # fmt: skip
    assert (order["state"], order["accFillSz"], order["avgPx"]) == ("filled", "2", "3000")
    assert order["clOrdId"] == ""
    assert okx.order(order["ordId"]) == order
    assert [f["ordId"] for f in okx.get("/api/v5/trade/fills")["data"]] == [order["ordId"]]


def test_a_limit_user_order_rests_and_holds_its_client_order_id(sim: Simulator, okx: RawOkx) -> None:
    order = _user_order(okx, side="buy", sz="1", ordType="limit", px="2990", clOrdId="app1")
    assert (order["state"], order["px"], order["clOrdId"]) == ("live", "2990", "app1")
    pending = okx.get("/api/v5/trade/orders-pending")["data"]
    assert [o["ordId"] for o in pending] == [order["ordId"]]
    clash = okx.place(side="buy", posSide="long", ordType="limit", px="2980", sz="1", clOrdId="app1")
    assert clash["data"][0]["sCode"] == "51016"
    sim.set_price("2990")
    assert okx.order(order["ordId"])["accFillSz"] == "0.5"
    short = _user_order(okx, side="sell", posSide="short", sz="1", ordType="post_only", px="3100")
    assert (short["state"], short["posSide"], short["ordType"]) == ("live", "short", "post_only")


def test_a_position_partly_someone_elses_is_closed_whole(sim: Simulator, okx: RawOkx) -> None:
    mine = okx.place(side="buy", posSide="long", ordType="market", sz="1")["data"][0]["ordId"]
    theirs = sim.user_order("buy", "2")["ordId"]
    position = okx.get(f"/api/v5/account/positions?instId={ETH}")["data"]
    assert [(p["posSide"], p["pos"]) for p in position] == [("long", "3")]
    fills = okx.get("/api/v5/trade/fills")["data"]
    assert sorted((f["ordId"], f["fillSz"]) for f in fills) == sorted([(mine, "1"), (theirs, "2")])
    close = {"instId": ETH, "mgnMode": "isolated", "posSide": "long"}
    closed = okx.post("/api/v5/trade/close-position", close)
    assert closed["code"] == "0"
    assert okx.get("/api/v5/account/positions")["data"] == []
    closing = okx.get("/api/v5/trade/orders-history?instType=SWAP")["data"][0]
    assert (closing["side"], closing["accFillSz"], closing["state"]) == ("sell", "3", "filled")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"side": "buy", "sz": "0.015"}, "51121 Order quantity must be a multiple of the lot size."),
        ({"side": "buy", "sz": "1", "ordType": "limit"}, "51204 The price for the limit order cannot be "
         "empty."),
        ({"side": "buy", "sz": "1", "ordType": "limit", "px": "3200"}, "51006 Order price is not within the "
         "price limit (max buy price: 3150 min sell price: 2850)"),
        ({"side": "sell", "sz": "1"}, "51000 Parameter posSide error"),
        ({"side": "sell", "posSide": "long", "sz": "1"}, "51169 Order failed because you don't have any "
         "positions in this direction for this contract to reduce or close."),
        ({"side": "buy", "sz": "1", "tdMode": "cash"}, "51000 Parameter tdMode error"),
        ({"side": "buy", "sz": "1", "instId": "DOGE-USDT-SWAP"}, "51001 Instrument ID, Instrument ID code or "
         "Spread ID doesn't exist."),
        ({"side": "hold", "sz": "1"}, "51000 Parameter side error"),
        ({"side": "buy", "sz": "1", "clOrdId": "app-1"}, "51000 Parameter clOrdId error"),
        ({"side": "buy", "sz": "1", "ordType": "fok", "px": "3000"}, "ordType must be one of market, limit, "
         "post_only"),
        ({"sz": "1"}, "missing field side"),
    ],
)  # fmt: skip
def test_user_order_refusals_are_400_with_the_api_code(okx: RawOkx, body: dict[str, str], error: str) -> None:
    response = okx.admin("POST", "/sim/user-order", body)
    assert (response.status_code, response.json()) == (400, {"error": error})
    assert okx.admin("GET", "/sim/state").json()["orders"] == []


def test_user_order_in_process_raises_value_error_with_the_code(sim: Simulator) -> None:
    with pytest.raises(ValueError, match=r"^51008 "):
        sim.user_order("buy", Decimal("100000"), ord_type="limit", px=Decimal("2990"))
