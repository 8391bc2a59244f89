"""The price-limit band: GET /public/price-limit, and 51006 for priced orders outside it."""

from __future__ import annotations

import pytest

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import TIMEOUT_S, RawOkx

ETH = "ETH-USDT-SWAP"
BTC = "BTC-USDT-SWAP"


def test_price_limit_is_5_percent_either_side_rounded_inwards(sim: Simulator, okx: RawOkx) -> None:
    sim.set_price("3000.01")  # x 1.05 = 3150.0105, x 0.95 = 2850.0095
    response = okx.session.get(f"{sim.base_url}/api/v5/public/price-limit?instId={ETH}", timeout=TIMEOUT_S)
    assert response.json() == {
        "code": "0",
        "msg": "",
        "data": [
            {
                "instType": "SWAP",
                "instId": ETH,
                "buyLmt": "3150.01",
                "sellLmt": "2850.01",
                "ts": str(sim.now_ms()),
                "enabled": True,
            }
        ],
    }
    btc = okx.get(f"/api/v5/public/price-limit?instId={BTC}")["data"][0]
    assert (btc["buyLmt"], btc["sellLmt"]) == ("94500", "85500")
    assert okx.get("/api/v5/public/price-limit?instId=DOGE-USDT-SWAP")["code"] == "51001"
    assert okx.send("GET", "/api/v5/public/price-limit").status_code == 400


@pytest.mark.parametrize("ord_type", ["limit", "post_only", "fok", "ioc"])
def test_priced_orders_beyond_the_band_get_51006_on_both_sides(
    sim: Simulator, okx: RawOkx, ord_type: str
) -> None:
    sim.set_price("3000.01")
    message = "Order price is not within the price limit (max buy price: 3150.01 min sell price: 2850.01)"
    buy = okx.place(side="buy", posSide="long", ordType=ord_type, px="3150.02", sz="1")
    assert (buy["code"], buy["data"][0]["sCode"], buy["data"][0]["sMsg"]) == ("1", "51006", message)
    sell = okx.place(side="sell", posSide="short", ordType=ord_type, px="2850", sz="1")
    assert (sell["code"], sell["data"][0]["sCode"], sell["data"][0]["sMsg"]) == ("1", "51006", message)
    assert okx.place(side="buy", posSide="long", ordType=ord_type, px="3150.01", sz="1")["code"] == "0"
    assert okx.place(side="sell", posSide="short", ordType=ord_type, px="2850.01", sz="1")["code"] == "0"


def test_market_orders_are_not_refused_and_a_batch_refuses_per_item(okx: RawOkx) -> None:
    assert okx.place(side="buy", posSide="long", ordType="market", sz="1")["code"] == "0"
    batch = [
        {"instId": ETH, "tdMode": "isolated", "side": "buy", "posSide": "long", "ordType": "limit", "px": px,
         "sz": "1"}
        for px in ("2990", "3150.01")
    ]  # fmt: skip
    envelope = okx.post("/api/v5/trade/batch-orders", batch)
    assert envelope["code"] == "2"
    assert [item["sCode"] for item in envelope["data"]] == ["0", "51006"]


def test_the_band_follows_the_market(sim: Simulator, okx: RawOkx) -> None:
    sell = {"side": "sell", "posSide": "short", "ordType": "post_only", "px": "2800", "sz": "1"}
    assert okx.place(**sell)["data"][0]["sCode"] == "51006"
    sim.set_price("2900")
    assert okx.get(f"/api/v5/public/price-limit?instId={ETH}")["data"][0]["sellLmt"] == "2755"
    assert okx.place(**sell)["data"][0]["sCode"] == "0"
