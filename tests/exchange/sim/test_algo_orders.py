"""Algo orders (OKX's TP/SL) at the simulator's REST endpoints: placed, listed, read, amended, cancelled,
and refused as OKX refuses them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

ETH = "ETH-USDT-SWAP"
PENDING = "/api/v5/trade/orders-algo-pending?ordType=conditional,oco"


def _item(envelope: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = envelope["data"][0]
    return item


def _long(okx: RawOkx, sz: str = "1") -> None:
    assert _item(okx.place(side="buy", posSide="long", ordType="market", sz=sz))["sCode"] == "0"


def _stop(okx: RawOkx, **fields: Any) -> str:
    """A live algo (a long's stop at 2900 for 1 contract unless told); returns its algoId."""
    envelope = okx.place_algo(**{"sz": "1", "slTriggerPx": "2900", **fields})
    item = _item(envelope)
    assert (envelope["code"], item["sCode"]) == ("0", "0"), envelope
    algo_id: str = item["algoId"]
    return algo_id


def test_a_placed_stop_is_acknowledged_listed_and_read_in_okx_shape(sim: Simulator, okx: RawOkx) -> None:
    _long(okx)
    envelope = okx.place_algo(sz="1", slTriggerPx="2900", algoClOrdId="stop1", tag="t1")
    assert envelope["code"] == "0" and len(envelope["inTime"]) == 16
    ack = _item(envelope)
    assert set(ack) == {"algoClOrdId", "algoId", "clOrdId", "sCode", "sMsg", "tag"}
    assert (ack["algoClOrdId"], ack["sCode"], ack["tag"]) == ("stop1", "0", "t1")
    assert ack["algoId"].isdigit() and len(ack["algoId"]) == 19
    by_id = okx.algo(ack["algoId"])
    assert okx.get("/api/v5/trade/order-algo?algoClOrdId=stop1")["data"] == [by_id]
    assert okx.get(PENDING)["data"] == [by_id]
    assert sim.state()["algos"] == [by_id]
    expected = {
        "instId": ETH,
        "instType": "SWAP",
        "ordType": "conditional",
        "state": "live",
        "side": "sell",
        "posSide": "long",
        "tdMode": "isolated",
        "sz": "1",
        "reduceOnly": "true",
        "slTriggerPx": "2900",
        "slOrdPx": "-1",
        "slTriggerPxType": "last",
        "tpTriggerPx": "",
        "tpOrdPx": "",
        "ordIdList": [],
        "ordId": "",
        "actualSz": "0",
        "actualPx": "",
        "actualSide": "",
        "triggerTime": "",
        "failCode": "",
        "last": "3000",
        "lever": "10",
        "closeFraction": "",
        "algoClOrdId": "stop1",
        "tag": "t1",
    }
    assert {k: by_id[k] for k in expected} == expected
    assert by_id["cTime"] == by_id["uTime"] == str(sim.now_ms())


def test_sdk_style_empty_fields_count_as_absent(okx: RawOkx) -> None:
    body = {
        "instId": ETH,
        "tdMode": "isolated",
        "side": "sell",
        "ordType": "conditional",
        "sz": "1",
        "ccy": "",
        "posSide": "long",
        "reduceOnly": "",
        "tpTriggerPx": "",
        "tpOrdPx": "",
        "slTriggerPx": "2900",
        "slOrdPx": "-1",
        "triggerPx": "",
        "orderPx": "",
        "tpTriggerPxType": "",
        "slTriggerPxType": "",
        "closeFraction": "",
        "algoClOrdId": "",
        "cxlOnClosePos": "",
        "attachAlgoOrds": [],
    }
    assert _item(okx.post("/api/v5/trade/order-algo", body))["sCode"] == "0"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"slTriggerPx": "3000.01"}, "51280"),  # a long's stop above the last price
        ({"slTriggerPx": "", "slOrdPx": "", "tpTriggerPx": "2999.99", "tpOrdPx": "-1"}, "51279"),
        ({"side": "buy", "posSide": "short", "slTriggerPx": "2999.99"}, "51278"),
        (
            {
                "side": "buy",
                "posSide": "short",
                "slTriggerPx": "",
                "slOrdPx": "",
                "tpTriggerPx": "3000.01",
                "tpOrdPx": "-1",
            },
            "51277",
        ),
        ({"slTriggerPx": "2950.01", "slTriggerPxType": "mark"}, "51304"),
        (
            {
                "slTriggerPx": "",
                "slOrdPx": "",
                "tpTriggerPx": "2949.99",
                "tpOrdPx": "-1",
                "tpTriggerPxType": "mark",
            },
            "51303",
        ),
        ({"side": "buy", "posSide": "short", "slTriggerPx": "2949.99", "slTriggerPxType": "mark"}, "51302"),
        (
            {
                "side": "buy",
                "posSide": "short",
                "slTriggerPx": "",
                "slOrdPx": "",
                "tpTriggerPx": "2950.01",
                "tpOrdPx": "-1",
                "tpTriggerPxType": "mark",
            },
            "51300",
        ),
        ({"slTriggerPx": "3050.01", "slTriggerPxType": "index"}, "51308"),
        ({"side": "buy", "posSide": "short", "slTriggerPx": "3049.99", "slTriggerPxType": "index"}, "51306"),
    ],
)
def test_a_trigger_already_past_the_price_it_watches_is_refused_with_that_prices_code(
    sim: Simulator, okx: RawOkx, fields: dict[str, str], code: str
) -> None:
    sim.set_price(mark="2950", index="3050")  # last stays 3000
    envelope = okx.place_algo(sz="1", **{"slTriggerPx": "2900", **fields})
    assert (envelope["code"], envelope["msg"], _item(envelope)["sCode"]) == (
        "1",
        "All operations failed",
        code,
    )
    assert _item(envelope)["algoId"] == ""
    assert sim.state()["algos"] == []


def test_a_trigger_at_the_price_itself_is_accepted(okx: RawOkx) -> None:
    assert okx.place_algo(sz="1", slTriggerPx="3000")["code"] == "0"


@pytest.mark.parametrize(
    ("fields", "code", "msg"),
    [
        ({"ordType": "trigger"}, "51000", "Parameter ordType error"),  # an OKX type not modelled here
        ({"sz": "0.015"}, "51121", None),
        ({"sz": "20000"}, "51275", None),
        ({"slTriggerPx": "2900.005"}, "51000", "Parameter slTriggerPx error"),
        ({"slOrdPx": ""}, "51000", "Parameter slOrdPx error"),
        ({"slTriggerPx": "", "slOrdPx": ""}, "51000", "Parameter slTriggerPx error"),
        ({"closeFraction": "1"}, "51000", "Parameter closeFraction error"),  # with sz too
        ({"sz": "", "closeFraction": "0.5"}, "51000", "Parameter closeFraction error"),
        ({"algoClOrdId": "stop-1"}, "51000", "Parameter algoClOrdId error"),
        ({"ordType": "oco"}, "51000", "Parameter tpTriggerPx error"),  # an oco needs both legs
        ({"posSide": "net"}, "51000", "Parameter posSide error"),
        ({"instId": "DOGE-USDT-SWAP"}, "51001", None),
        ({"reduceOnly": True, "cxlOnClosePos": True, "posSide": "long"}, "0", None),
        ({"cxlOnClosePos": True}, "51000", "Parameter reduceOnly error"),
    ],
)
def test_algo_rule_violations_get_their_item_code(
    okx: RawOkx, fields: dict[str, Any], code: str, msg: str | None
) -> None:
    item = _item(okx.place_algo(**{"sz": "1", "slTriggerPx": "2900", **fields}))
    assert item["sCode"] == code
    if msg is not None:
        assert item["sMsg"] == msg


@pytest.mark.parametrize("missing", ["instId", "tdMode", "side", "ordType"])
def test_a_malformed_place_algo_is_a_top_level_51000_with_http_400(okx: RawOkx, missing: str) -> None:
    body = {
        "instId": ETH,
        "tdMode": "isolated",
        "side": "sell",
        "posSide": "long",
        "ordType": "conditional",
        "sz": "1",
        "slTriggerPx": "2900",
        "slOrdPx": "-1",
    }
    del body[missing]
    response = okx.send("POST", "/api/v5/trade/order-algo", json.dumps(body))
    assert response.status_code == 400
    assert response.json() == {"code": "51000", "data": [], "msg": f"Parameter {missing} error"}


def test_an_algo_client_id_is_taken_while_its_algo_lives(okx: RawOkx) -> None:
    algo_id = _stop(okx, algoClOrdId="mine1")
    assert _item(okx.place_algo(sz="1", slTriggerPx="2800", algoClOrdId="mine1"))["sCode"] == "51065"
    assert _item(okx.post("/api/v5/trade/cancel-algos", [{"instId": ETH, "algoId": algo_id}]))["sCode"] == "0"
    again = _stop(okx, algoClOrdId="mine1")
    assert okx.get("/api/v5/trade/order-algo?algoClOrdId=mine1")["data"][0]["algoId"] == again != algo_id


def test_an_attach_client_id_clashes_with_an_algo_client_id(okx: RawOkx) -> None:
    attach = [{"attachAlgoClOrdId": "shared1", "slTriggerPx": "2800", "slOrdPx": "-1"}]
    ack = _item(okx.place_with_stop(attach, side="buy", posSide="long", ordType="limit", px="2990", sz="1"))
    assert ack["sCode"] == "0"
    refused = _item(okx.place_algo(sz="1", slTriggerPx="2900", algoClOrdId="shared1"))
    assert refused["sCode"] == "51068"
    assert refused["sMsg"] == "shared1 already exists within algoClOrdId and attachAlgoClOrdId."


def test_close_fraction_needs_a_position_and_is_one_per_position(okx: RawOkx) -> None:
    assert _item(okx.place_algo(closeFraction="1", slTriggerPx="2900"))["sCode"] == "51058"
    _long(okx)
    assert _item(okx.place_algo(closeFraction="1", slTriggerPx="2900"))["sCode"] == "0"
    assert _item(okx.place_algo(closeFraction="1", slTriggerPx="2800"))["sCode"] == "51088"
    assert _item(okx.place_algo(closeFraction="1", slTriggerPx="2800", slOrdPx="2790"))["sCode"] == "51000"
    listed = okx.get(PENDING)["data"]
    assert [(a["closeFraction"], a["sz"]) for a in listed] == [("1", "")]


def test_cancel_is_accepted_then_refused_as_okx_does(sim: Simulator, okx: RawOkx) -> None:
    first, second = _stop(okx, algoClOrdId="c1"), _stop(okx, slTriggerPx="2800")
    answer = okx.post(
        "/api/v5/trade/cancel-algos", [{"instId": ETH, "algoClOrdId": "c1"}, {"instId": ETH, "algoId": "1"}]
    )
    assert answer["code"] == "2"
    assert [(a["algoId"], a["sCode"]) for a in answer["data"]] == [(first, "0"), ("1", "51400")]
    assert set(answer["data"][0]) == {"algoClOrdId", "algoId", "clOrdId", "sCode", "sMsg", "tag"}
    assert (
        _item(okx.post("/api/v5/trade/cancel-algos", [{"instId": ETH, "algoId": first}]))["sCode"] == "51400"
    )
    assert okx.algo(first)["state"] == "canceled"
    assert [a["algoId"] for a in okx.get(PENDING)["data"]] == [second]
    history = okx.get("/api/v5/trade/orders-algo-history?ordType=conditional&state=canceled")["data"]
    assert [a["algoId"] for a in history] == [first]


def test_more_than_ten_cancels_in_one_request_are_refused_whole(okx: RawOkx) -> None:
    algo_id = _stop(okx)
    rows = [{"instId": ETH, "algoId": algo_id}] * 11
    response = okx.send("POST", "/api/v5/trade/cancel-algos", json.dumps(rows))
    assert response.status_code == 400 and response.json()["code"] == "51406"
    assert okx.algo(algo_id)["state"] == "live"


def test_an_amend_changes_size_and_trigger_and_echoes_its_request_id(okx: RawOkx) -> None:
    algo_id = _stop(okx, algoClOrdId="am1", sz="2")
    answer = okx.post(
        "/api/v5/trade/amend-algos",
        {"instId": ETH, "algoClOrdId": "am1", "newSz": "1.5", "newSlTriggerPx": "2950", "reqId": "r1"},
    )
    assert answer["code"] == "0"
    assert _item(answer) == {"algoClOrdId": "am1", "algoId": algo_id, "reqId": "r1", "sCode": "0", "sMsg": ""}
    algo = okx.algo(algo_id)
    assert (algo["sz"], algo["slTriggerPx"], algo["slOrdPx"], algo["state"]) == ("1.5", "2950", "-1", "live")


def test_a_refused_amend_leaves_the_algo_or_cancels_it_when_asked(okx: RawOkx) -> None:
    algo_id = _stop(okx)
    amend = {"instId": ETH, "algoId": algo_id, "newSlTriggerPx": "3001"}
    assert _item(okx.post("/api/v5/trade/amend-algos", amend))["sCode"] == "51280"
    assert (okx.algo(algo_id)["slTriggerPx"], okx.algo(algo_id)["state"]) == ("2900", "live")
    assert _item(okx.post("/api/v5/trade/amend-algos", {**amend, "cxlOnFail": True}))["sCode"] == "51280"
    assert okx.algo(algo_id)["state"] == "canceled"
    assert (
        _item(okx.post("/api/v5/trade/amend-algos", {**amend, "newSlTriggerPx": "2800"}))["sCode"] == "51503"
    )
    nothing = _item(okx.post("/api/v5/trade/amend-algos", {"instId": ETH, "algoId": _stop(okx)}))
    assert nothing["sCode"] == "51500"


def test_an_amend_deletes_a_leg_with_a_zero_trigger(okx: RawOkx) -> None:
    algo_id = _stop(okx, tpTriggerPx="3100", tpOrdPx="-1")
    amend = {"instId": ETH, "algoId": algo_id, "newTpTriggerPx": "0"}
    assert _item(okx.post("/api/v5/trade/amend-algos", amend))["sCode"] == "0"
    assert (okx.algo(algo_id)["tpTriggerPx"], okx.algo(algo_id)["slTriggerPx"]) == ("", "2900")
    only_leg = {"instId": ETH, "algoId": algo_id, "newSlTriggerPx": "0"}
    assert _item(okx.post("/api/v5/trade/amend-algos", only_leg))["sCode"] == "51000"


def test_the_reads_require_what_okx_requires(okx: RawOkx) -> None:
    response = okx.send("GET", "/api/v5/trade/orders-algo-pending")
    assert (response.status_code, response.json()["code"]) == (400, "50014")
    response = okx.send("GET", "/api/v5/trade/orders-algo-history?ordType=conditional")
    assert (response.status_code, response.json()["code"]) == (400, "50015")
    response = okx.send("GET", "/api/v5/trade/orders-algo-history?ordType=conditional&state=live")
    assert (response.status_code, response.json()["code"]) == (400, "51000")
    response = okx.send("GET", "/api/v5/trade/order-algo")
    assert (response.status_code, response.json()["code"]) == (400, "50015")
    assert okx.get("/api/v5/trade/orders-algo-pending?ordType=trigger")["data"] == []


def test_an_unknown_algo_is_51603_or_the_quirks_51063(sim: Simulator, okx: RawOkx) -> None:
    assert okx.get("/api/v5/trade/order-algo?algoId=123") == {
        "code": "51603",
        "data": [],
        "msg": "Order does not exist",
    }
    sim.set_quirks({"algo_unknown_code": "51063"})
    assert okx.get("/api/v5/trade/order-algo?algoClOrdId=nope")["code"] == "51063"


def test_pending_algos_page_newest_first_by_algo_id(okx: RawOkx) -> None:
    ids = [_stop(okx, slTriggerPx=str(2900 - i)) for i in range(5)]
    newest_two = okx.get(f"{PENDING}&limit=2")["data"]
    assert [a["algoId"] for a in newest_two] == ids[:2:-1][:2] == [ids[4], ids[3]]
    older = okx.get(f"{PENDING}&after={ids[3]}")["data"]
    assert [a["algoId"] for a in older] == [ids[2], ids[1], ids[0]]
    assert [a["algoId"] for a in okx.get(f"{PENDING}&instId=BTC-USDT-SWAP")["data"]] == []
    assert [a["algoId"] for a in okx.get(f"{PENDING}&algoId={ids[1]}")["data"]] == [ids[1]]


def test_a_trader_cancels_an_algo_in_the_app(okx: RawOkx) -> None:
    algo_id = _stop(okx, algoClOrdId="app1")
    answer = okx.admin("POST", "/sim/user-cancel-algo", {"algoClOrdId": "app1"})
    assert (answer.status_code, answer.json()["state"]) == (200, "canceled")
    assert okx.algo(algo_id)["state"] == "canceled"
    assert okx.admin("POST", "/sim/user-cancel-algo", {"algoId": algo_id}).status_code == 404


def test_the_position_mode_stays_while_an_algo_lives(sim: Simulator, okx: RawOkx) -> None:
    algo_id = _stop(okx)
    with pytest.raises(ValueError, match="59000"):
        sim.set_account(pos_mode="net_mode")
    okx.post("/api/v5/trade/cancel-algos", [{"instId": ETH, "algoId": algo_id}])
    assert sim.set_account(pos_mode="net_mode")["posMode"] == "net_mode"


def test_place_algo_has_its_own_budget_of_20_per_2_seconds(okx: RawOkx) -> None:
    answers = [okx.place_algo(sz="1", slTriggerPx=str(2900 - i)) for i in range(21)]
    assert [a["code"] for a in answers[:20]] == ["0"] * 20
    assert answers[20] == {"msg": "Too Many Requests", "code": "50011"}
    assert _item(okx.place(side="buy", posSide="long", ordType="market", sz="1"))["sCode"] == "0"
