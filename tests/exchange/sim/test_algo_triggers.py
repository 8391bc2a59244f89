"""Algo orders firing: on the price each leg watches, into a child order that is placed and filled as
any order, judged from the simulator's own records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

ETH = "ETH-USDT-SWAP"


def _item(envelope: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = envelope["data"][0]
    return item


def _open(okx: RawOkx, side: str = "buy", pos_side: str = "long", sz: str = "1") -> None:
    assert _item(okx.place(side=side, posSide=pos_side, ordType="market", sz=sz))["sCode"] == "0"


def _algo(okx: RawOkx, **fields: Any) -> str:
    envelope = okx.place_algo(**{"sz": "1", "slTriggerPx": "2900", **fields})
    assert _item(envelope)["sCode"] == "0", envelope
    algo_id: str = _item(envelope)["algoId"]
    return algo_id


def _positions(sim: Simulator) -> list[tuple[str, str]]:
    return [(p["posSide"], p["pos"]) for p in sim.state()["positions"]]


def test_a_longs_stop_fires_on_the_last_price_into_a_reduce_only_market_child(
    sim: Simulator, okx: RawOkx
) -> None:
    _open(okx)
    algo_id = _algo(okx, algoClOrdId="sl1")
    sim.set_price("2900.01")
    assert okx.algo(algo_id)["state"] == "live"
    sim.set_price("2895")  # through the trigger: the child fills at the market, here 2895
    algo = okx.algo(algo_id)
    assert (algo["state"], algo["actualSide"], algo["actualSz"], algo["actualPx"]) == (
        "effective",
        "sl",
        "1",
        "",
    )
    assert algo["triggerTime"] == str(sim.now_ms()) and algo["failCode"] == ""
    (child_id,) = algo["ordIdList"]
    assert algo["ordId"] == child_id
    child = okx.order(child_id)
    expected = {
        "algoId": algo_id,
        "algoClOrdId": "sl1",
        "clOrdId": "",
        "ordType": "market",
        "side": "sell",
        "posSide": "long",
        "reduceOnly": "true",
        "state": "filled",
        "accFillSz": "1",
        "avgPx": "2895",
    }
    assert {k: child[k] for k in expected} == expected
    (fill,) = [f for f in sim.state()["fills"] if f["ordId"] == child_id]
    assert (fill["fillPx"], fill["fillSz"], fill["execType"]) == ("2895", "1", "T")
    assert "algoId" not in fill
    assert _positions(sim) == []
    assert okx.get("/api/v5/trade/orders-algo-pending?ordType=conditional")["data"] == []
    history = okx.get("/api/v5/trade/orders-algo-history?ordType=conditional&state=effective")["data"]
    assert [a["algoId"] for a in history] == [algo_id]


def test_a_shorts_stop_fires_when_the_price_rises(sim: Simulator, okx: RawOkx) -> None:
    _open(okx, "sell", "short")
    algo_id = _algo(okx, side="buy", posSide="short", slTriggerPx="3100")
    sim.set_price("3100")
    assert okx.algo(algo_id)["state"] == "effective"
    assert _positions(sim) == []


def test_an_oco_fires_its_take_profit_leg(sim: Simulator, okx: RawOkx) -> None:
    _open(okx)
    algo_id = _algo(okx, ordType="oco", tpTriggerPx="3100", tpOrdPx="-1")
    sim.set_price("3150")
    algo = okx.algo(algo_id)
    assert (algo["state"], algo["actualSide"]) == ("effective", "tp")
    assert okx.order(algo["ordIdList"][0])["avgPx"] == "3150"


def test_a_stop_at_the_price_itself_fires_at_the_next_market_step(sim: Simulator, okx: RawOkx) -> None:
    _open(okx)
    algo_id = _algo(okx, slTriggerPx="3000")
    assert okx.algo(algo_id)["state"] == "live"
    sim.advance(1)
    assert okx.algo(algo_id)["state"] == "effective"


@pytest.mark.parametrize("px_type", ["mark", "index"])
def test_a_stop_on_mark_or_index_ignores_the_last_price(sim: Simulator, okx: RawOkx, px_type: str) -> None:
    _open(okx)
    okx.admin("POST", "/sim/price", {px_type: "3050"})
    algo_id = _algo(okx, slTriggerPx="2950", slTriggerPxType=px_type)
    sim.set_price("2940")  # last crosses; mark/index keep their 50 above it: 2990
    assert okx.algo(algo_id)["state"] == "live"
    assert sim.state()["feeds"][ETH] == {"last": "2940", "mark": "2940", "index": "2940", px_type: "2990"}
    moved = okx.admin("POST", "/sim/price", {px_type: "2949"})
    assert moved.status_code == 200
    algo = okx.algo(algo_id)
    assert algo["state"] == "effective"
    assert okx.order(algo["ordIdList"][0])["avgPx"] == "2940"  # the child trades at the last price
    assert _positions(sim) == []


def test_reset_puts_mark_and_index_back_on_the_last_price(sim: Simulator) -> None:
    sim.set_price(mark="2990", index="3010")
    sim.reset()
    assert sim.state()["feeds"][ETH] == {"last": "3000", "mark": "3000", "index": "3000"}


def test_a_walking_market_fires_a_stop_at_a_step() -> None:
    with Simulator(seed=3, volatility="0.02") as sim:
        okx = RawOkx(sim)
        _open(okx)
        algo_id = _algo(okx, slTriggerPx="2990", tpTriggerPx="3010", tpOrdPx="-1", ordType="oco")
        for _ in range(600):  # a 2 % a minute walk leaves a 0.33 % band within seconds
            if okx.algo(algo_id)["state"] != "live":
                break
            sim.advance(1)
        algo = okx.algo(algo_id)
        assert algo["state"] == "effective"
        child = okx.order(algo["ordIdList"][0])
        px = Decimal(child["avgPx"])
        assert px <= 2990 if algo["actualSide"] == "sl" else px >= 3010
        assert _positions(sim) == []


def test_nothing_left_to_reduce_ends_the_algo_order_failed_51169(sim: Simulator, okx: RawOkx) -> None:
    _open(okx)
    algo_id = _algo(okx)
    sim.user_close(ETH, "long")
    sim.set_price("2899")
    algo = okx.algo(algo_id)
    assert (algo["state"], algo["failCode"], algo["ordIdList"], algo["actualSide"]) == (
        "order_failed",
        "51169",
        [],
        "sl",
    )
    assert [o["algoId"] for o in sim.state()["orders"] if o["algoId"]] == []


def test_a_stop_larger_than_the_position_closes_what_is_held(sim: Simulator, okx: RawOkx) -> None:
    _open(okx, sz="1")
    algo_id = _algo(okx, sz="2")
    sim.set_price("2899")
    algo = okx.algo(algo_id)
    assert (algo["state"], algo["actualSz"], algo["sz"]) == ("effective", "1", "2")
    assert _positions(sim) == []


def test_with_the_fail_quirk_an_oversize_stop_is_refused_whole(sim: Simulator, okx: RawOkx) -> None:
    sim.set_quirks({"algo_child_oversize": "fail"})
    _open(okx, sz="1")
    algo_id = _algo(okx, sz="2")
    sim.set_price("2899")
    assert (okx.algo(algo_id)["state"], okx.algo(algo_id)["failCode"]) == ("order_failed", "51112")
    assert _positions(sim) == [("long", "1")]


def test_close_fraction_closes_the_whole_position_hand_trades_included(sim: Simulator, okx: RawOkx) -> None:
    _open(okx, sz="1")
    algo_id = _algo(okx, sz="", closeFraction="1")
    sim.user_order("buy", "2")
    sim.set_price("2899")
    assert okx.algo(algo_id)["actualSz"] == "3"
    assert _positions(sim) == []


def test_in_net_mode_a_reduce_only_stop_closes_and_a_plain_one_needs_margin() -> None:
    with Simulator(seed=7, volatility="0", balance="100") as sim:
        okx = RawOkx(sim)
        sim.set_account(pos_mode="net_mode")
        okx.place(side="buy", ordType="market", sz="1", tdMode="cross")
        stop = _algo(okx, posSide="", tdMode="cross", reduceOnly=True)
        entry = _algo(okx, side="buy", posSide="", tdMode="cross", sz="100", slTriggerPx="3100")
        sim.set_price("2899")
        assert (okx.algo(stop)["state"], okx.algo(stop)["posSide"]) == ("effective", "net")
        assert _positions(sim) == []
        sim.set_price("3100")
        assert (okx.algo(entry)["state"], okx.algo(entry)["failCode"]) == ("order_failed", "51008")


def test_a_net_conditional_with_both_legs_watches_only_its_stop_loss(sim: Simulator, okx: RawOkx) -> None:
    sim.set_account(pos_mode="net_mode")
    okx.place(side="buy", ordType="market", sz="1", tdMode="cross")
    algo_id = _algo(okx, posSide="", tdMode="cross", reduceOnly=True, tpTriggerPx="3100", tpOrdPx="-1")
    sim.set_price("3200")
    assert okx.algo(algo_id)["state"] == "live"
    sim.set_price("2899")
    assert okx.algo(algo_id)["state"] == "effective"


def test_a_stop_limit_gapped_through_rests_unfilled(sim: Simulator, okx: RawOkx) -> None:
    _open(okx)
    algo_id = _algo(okx, slOrdPx="2899")
    sim.set_price("2895")  # the market gaps below the stop's limit price: its sell rests above it
    child = okx.order(okx.algo(algo_id)["ordIdList"][0])
    assert (child["ordType"], child["px"], child["state"]) == ("limit", "2899", "live")
    assert okx.algo(algo_id)["actualPx"] == "2899"
    assert _positions(sim) == [("long", "1")]


def test_cxl_on_close_pos_cancels_the_algo_when_its_position_is_closed(sim: Simulator, okx: RawOkx) -> None:
    _open(okx)
    algo_id = _algo(okx, reduceOnly=True, cxlOnClosePos=True)
    kept = _algo(okx, slTriggerPx="2800")
    sim.user_close(ETH, "long")
    assert okx.algo(algo_id)["state"] == "canceled"
    assert okx.algo(kept)["state"] == "live"


def test_an_attached_stop_appears_only_once_its_order_is_filled_completely(
    sim: Simulator, okx: RawOkx
) -> None:
    attach = [
        {"attachAlgoClOrdId": "att1", "slTriggerPx": "2900", "slOrdPx": "-1", "slTriggerPxType": "mark"}
    ]
    ack = _item(okx.place_with_stop(attach, side="buy", posSide="long", ordType="limit", px="2990", sz="1"))
    order = okx.order(ack["ordId"])
    assert order["attachAlgoClOrdId"] == "att1"
    assert order["attachAlgoOrds"][0]["slTriggerPx"] == "2900"
    sim.set_price("2989.99")  # half of it fills
    assert sim.state()["algos"] == []
    sim.set_price("2989.98")
    (algo,) = sim.state()["algos"]
    expected = {
        "algoClOrdId": "att1",
        "side": "sell",
        "posSide": "long",
        "sz": "1",
        "ordType": "conditional",
        "slTriggerPx": "2900",
        "slTriggerPxType": "mark",
        "state": "live",
        "reduceOnly": "true",
    }
    assert {k: algo[k] for k in expected} == expected


def test_an_attached_stop_of_an_order_canceled_after_a_partial_fill_never_appears(
    sim: Simulator, okx: RawOkx
) -> None:
    attach = [{"attachAlgoClOrdId": "att2", "slTriggerPx": "2900", "slOrdPx": "-1"}]
    ack = _item(okx.place_with_stop(attach, side="buy", posSide="long", ordType="limit", px="2990", sz="1"))
    sim.set_price("2989.99")
    okx.post("/api/v5/trade/cancel-order", {"instId": ETH, "ordId": ack["ordId"]})
    sim.advance(60)
    assert sim.state()["algos"] == []
    assert _positions(sim) == [("long", "0.5")]


def test_attached_stops_come_with_batch_orders_too(sim: Simulator, okx: RawOkx) -> None:
    attach = [
        {
            "attachAlgoClOrdId": "batch1",
            "tpTriggerPx": "3100",
            "tpOrdPx": "-1",
            "slTriggerPx": "2900",
            "slOrdPx": "-1",
        }
    ]
    row = {
        "instId": ETH,
        "tdMode": "isolated",
        "side": "buy",
        "posSide": "long",
        "ordType": "market",
        "sz": "1",
    }
    answer = okx.post("/api/v5/trade/batch-orders", [{**row, "attachAlgoOrds": attach}])
    assert _item(answer)["sCode"] == "0"
    (algo,) = sim.state()["algos"]
    assert (algo["algoClOrdId"], algo["ordType"], algo["tpTriggerPx"]) == ("batch1", "oco", "3100")


@pytest.mark.parametrize(
    ("order", "leg", "code"),
    [
        ({"ordType": "limit", "px": "2990"}, {"slTriggerPx": "2990"}, "51047"),
        ({"ordType": "limit", "px": "2990"}, {"tpTriggerPx": "2980"}, "51046"),
        ({"ordType": "market"}, {"slTriggerPx": "3000"}, "51051"),
        ({"ordType": "market"}, {"tpTriggerPx": "2999"}, "51050"),
        (
            {"ordType": "limit", "px": "3010", "side": "sell", "posSide": "short"},
            {"slTriggerPx": "3005"},
            "51049",
        ),
        ({"ordType": "market", "side": "sell", "posSide": "short"}, {"tpTriggerPx": "3000"}, "51052"),
    ],
)
def test_an_attached_stop_on_the_wrong_side_of_its_order_is_refused(
    okx: RawOkx, order: dict[str, str], leg: dict[str, str], code: str
) -> None:
    kind = "sl" if "slTriggerPx" in leg else "tp"
    attach = [{**leg, f"{kind}OrdPx": "-1"}]
    ack = _item(okx.place_with_stop(attach, **{"side": "buy", "posSide": "long", "sz": "1", **order}))
    assert ack["sCode"] == code


def test_an_attached_stop_on_a_closing_order_is_51100(okx: RawOkx) -> None:
    _open(okx)
    attach = [{"slTriggerPx": "3100", "slOrdPx": "-1"}]
    ack = _item(okx.place_with_stop(attach, side="sell", posSide="long", ordType="market", sz="1"))
    assert ack["sCode"] == "51100"
