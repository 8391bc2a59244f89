"""The issue's scenario: a three-rung post-only ladder that the market trades through, fill by fill."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

ETH = "ETH-USDT-SWAP"
CT_VAL = Decimal("0.1")
MAKER = Decimal("0.0002")


def _fills(okx: RawOkx) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = okx.get(f"/api/v5/trade/fills?instId={ETH}")["data"]
    return data


def test_ladder_fills_partially_then_fully_and_every_number_adds_up(sim: Simulator, okx: RawOkx) -> None:
    rungs = [("rung1", "2991", "2"), ("rung2", "2982", "2"), ("rung3", "2973", "2")]
    batch = [
        {"instId": ETH, "tdMode": "isolated", "side": "buy", "posSide": "long", "ordType": "post_only",
         "px": px, "sz": sz, "clOrdId": cl}
        for cl, px, sz in rungs
    ]  # fmt: skip
    placed = okx.post("/api/v5/trade/batch-orders", batch)
    assert placed["code"] == "0"
    ids = {a["clOrdId"]: a["ordId"] for a in placed["data"]}

    sim.set_price("2980")  # trades through rung1 and rung2, not rung3
    first = {cl: okx.order(ids[cl]) for cl, _, _ in rungs}
    assert [first[cl]["state"] for cl in ids] == ["partially_filled", "partially_filled", "live"]
    assert [first[cl]["accFillSz"] for cl in ids] == ["1", "1", "0"]

    sim.advance(1)  # the next step fills the rest
    final = {cl: okx.order(ids[cl]) for cl, _, _ in rungs}
    assert [final[cl]["state"] for cl in ids] == ["filled", "filled", "live"]
    assert (final["rung1"]["avgPx"], final["rung2"]["avgPx"], final["rung3"]["avgPx"]) == ("2991", "2982", "")

    fills = _fills(okx)
    assert [f["billId"] for f in fills] == sorted((f["billId"] for f in fills), key=int, reverse=True)
    assert len({f["tradeId"] for f in fills}) == len(fills) == 4
    for cl in ("rung1", "rung2"):
        mine = [f for f in fills if f["ordId"] == ids[cl]]
        assert sum(Decimal(f["fillSz"]) for f in mine) == Decimal(final[cl]["accFillSz"])
        assert {f["execType"] for f in mine} == {"M"}
        assert sum(Decimal(f["fee"]) for f in mine) == Decimal(final[cl]["fee"])
        assert final[cl]["fillSz"] == mine[0]["fillSz"]  # the order shows its latest fill
        assert final[cl]["tradeId"] == mine[0]["tradeId"]

    position = okx.get(f"/api/v5/account/positions?instId={ETH}")["data"][0]
    assert (position["posSide"], position["pos"], position["mgnMode"]) == ("long", "4", "isolated")
    assert Decimal(position["avgPx"]) == (Decimal("2991") * 2 + Decimal("2982") * 2) / 4
    notional = sum(Decimal(f["fillPx"]) * Decimal(f["fillSz"]) * CT_VAL for f in fills)
    assert Decimal(position["fee"]) == sum(Decimal(f["fee"]) for f in fills) == -notional * MAKER
    assert Decimal(position["upl"]) == (Decimal("2980") - Decimal(position["avgPx"])) * 4 * CT_VAL
    cash = Decimal(okx.get("/api/v5/account/balance")["data"][0]["details"][0]["cashBal"])
    assert cash == Decimal("100000") + Decimal(position["fee"])

    cancel = {"instId": ETH, "clOrdId": "rung3"}
    assert okx.post("/api/v5/trade/cancel-order", cancel)["data"][0]["sCode"] == "0"
    assert okx.order(ids["rung3"])["state"] == "canceled"
    again = okx.post("/api/v5/trade/cancel-order", {"instId": ETH, "ordId": ids["rung3"]})
    assert (again["code"], again["data"][0]["sCode"]) == ("1", "51400")


def test_fills_page_by_bill_id_newest_first(sim: Simulator, okx: RawOkx) -> None:
    for _ in range(5):
        okx.place(side="buy", posSide="long", ordType="market", sz="1")
    every = _fills(okx)
    bills = [f["billId"] for f in every]
    assert len(bills) == 5
    older = okx.get(f"/api/v5/trade/fills?after={bills[1]}&limit=2")["data"]
    assert [f["billId"] for f in older] == bills[2:4]
    newer = okx.get(f"/api/v5/trade/fills?before={bills[3]}")["data"]
    assert [f["billId"] for f in newer] == bills[:3]
    assert okx.get("/api/v5/trade/fills?limit=1")["data"][0]["billId"] == bills[0]
    history = okx.get("/api/v5/trade/fills-history?instType=SWAP")["data"]
    assert [f["billId"] for f in history] == bills
    response = okx.send("GET", "/api/v5/trade/fills-history")
    assert (response.status_code, response.json()["code"]) == (400, "51000")


def test_a_random_walk_fills_resting_orders_as_time_passes() -> None:
    with Simulator(seed=11, volatility="0.002") as sim:
        okx = RawOkx(sim)
        for px in ("2995", "2990", "2985"):
            okx.place(side="buy", posSide="long", ordType="post_only", px=px, sz="1")
        for px in ("3005", "3010", "3015"):
            okx.place(side="sell", posSide="short", ordType="post_only", px=px, sz="1")
        sim.advance(3600)
        state = sim.state()
        assert state["fills"]
        for order in state["orders"]:
            fills = [f for f in state["fills"] if f["ordId"] == order["ordId"]]
            assert sum(Decimal(f["fillSz"]) for f in fills) == Decimal(order["accFillSz"])
            assert all(f["fillPx"] == order["px"] for f in fills)
