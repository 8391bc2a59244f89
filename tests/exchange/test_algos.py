"""The stop on the exchange, client side: rendering its payload, and the algo endpoints' requests and the
three outcomes of their POSTs (not sent, rejected, ambiguous), judged on the client alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests

from exchange import (
    OkxAmbiguousOutcome,
    OkxApiError,
    OkxClient,
    OkxDuplicateClOrdId,
    OkxIncorrectOrderState,
    OkxInvalidPayload,
    OkxInvalidRequest,
    OkxNotArmed,
    OkxOrderNotFound,
    OkxStopPriceRefused,
    amend_algo_body,
    cancel_algo_item,
    render_stop_payload,
    stop_trigger_price,
)
from tests.exchange.okx_fakes import FakeSession, eth_instrument, make_client, okx, raw

SYMBOL = "ETH-USDT-SWAP"


def _stop(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "instrument": eth_instrument(),
        "side": "sell",
        "sz": Decimal("0.33"),
        "sl_trigger_px": Decimal("2900.004"),
        "algo_client_order_id": "ertw1767571200000s1a0",
        "pos_side": "long",
        **overrides,
    }
    return render_stop_payload(**args)


def _algo_ack(algo_id: str = "1836487817828872192", s_code: str = "0", cl: str = "ertwS1") -> dict[str, str]:
    return {
        "algoClOrdId": cl,
        "algoId": algo_id if s_code == "0" else "",
        "clOrdId": "",
        "sCode": s_code,
        "sMsg": "",
        "tag": "",
    }


def _algo_obj(algo_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "algoId": algo_id,
        "algoClOrdId": "ertwS1",
        "instId": SYMBOL,
        "instType": "SWAP",
        "ordType": "conditional",
        "state": "live",
        "side": "sell",
        "posSide": "long",
        "tdMode": "isolated",
        "sz": "0.33",
        "closeFraction": "",
        "reduceOnly": "true",
        "slTriggerPx": "2900.01",
        "slOrdPx": "-1",
        "slTriggerPxType": "mark",
        "tpTriggerPx": "",
        "tpOrdPx": "",
        "tpTriggerPxType": "",
        "ordId": "",
        "ordIdList": [],
        "actualSz": "0",
        "actualPx": "",
        "actualSide": "",
        "triggerTime": "",
        "failCode": "",
        "tag": "",
        "cTime": "1700000000000",
        "uTime": "1700000000000",
        **overrides,
    }


def test_a_stop_payload_is_a_reduce_only_market_conditional_of_exactly_its_size() -> None:
    assert _stop(sl_trigger_px_type="mark") == {
        "instId": SYMBOL,
        "tdMode": "isolated",
        "side": "sell",
        "posSide": "long",
        "ordType": "conditional",
        "sz": "0.33",
        "algoClOrdId": "ertw1767571200000s1a0",
        "slTriggerPx": "2900.01",  # a sell's stop rounds up: it never fires later than asked
        "slOrdPx": "-1",
        "slTriggerPxType": "mark",
        "reduceOnly": True,
    }


def test_a_stop_with_a_take_profit_is_an_oco_and_net_mode_omits_pos_side() -> None:
    payload = _stop(
        side="buy",
        pos_side=None,
        td_mode="cross",
        sl_trigger_px=Decimal("3100.009"),
        tp_trigger_px=Decimal("2800.001"),
        tp_trigger_px_type="index",
    )
    assert "posSide" not in payload and payload["ordType"] == "oco"
    assert (payload["slTriggerPx"], payload["tpTriggerPx"]) == (
        "3100.00",
        "2800.01",
    )  # a buy's stop rounds down
    assert (payload["tpOrdPx"], payload["tpTriggerPxType"]) == ("-1", "index")


@pytest.mark.parametrize(
    "overrides",
    [
        {"sz": Decimal("0.333")},  # off the lot: never rounded, a stop covers exactly its size
        {"sz": Decimal("0.001")},
        {"sz": Decimal(0)},
        {"side": "up"},
        {"pos_side": "both"},
        {"sl_trigger_px_type": "best"},
        {"algo_client_order_id": "stop_1"},
        {"algo_client_order_id": "s" * 33},
        {"tp_trigger_px": Decimal("2800")},  # a long's take-profit below its stop
        {"sl_trigger_px": Decimal("-1")},
    ],
)
def test_a_bad_stop_is_refused_before_anything_is_sent(overrides: dict[str, Any]) -> None:
    with pytest.raises(OkxInvalidRequest):
        _stop(**overrides)


def test_trigger_prices_round_towards_the_market() -> None:
    eth = eth_instrument()
    px = Decimal("2999.995")
    assert [
        stop_trigger_price(eth, side, px, leg)
        for side, leg in [("sell", "sl"), ("buy", "sl"), ("sell", "tp"), ("buy", "tp")]
    ] == [Decimal("3000.00"), Decimal("2999.99"), Decimal("2999.99"), Decimal("3000.00")]


def test_amend_and_cancel_bodies_name_the_algo_by_id_first() -> None:
    assert amend_algo_body(
        SYMBOL, algo_id="7", algo_client_order_id="x1", new_sz=Decimal("0.5"), req_id="r1"
    ) == {"instId": SYMBOL, "algoId": "7", "reqId": "r1", "newSz": "0.5"}
    assert amend_algo_body(
        SYMBOL,
        algo_client_order_id="x1",
        new_sl_trigger_px=Decimal("2950.10"),
        new_sl_trigger_px_type="last",
        cxl_on_fail=True,
    ) == {
        "instId": SYMBOL,
        "algoClOrdId": "x1",
        "cxlOnFail": True,
        "newSlTriggerPx": "2950.10",
        "newSlTriggerPxType": "last",
    }
    assert cancel_algo_item(SYMBOL, None, "x1") == {"instId": SYMBOL, "algoClOrdId": "x1"}
    for bad in (
        lambda: amend_algo_body(SYMBOL, algo_id="7"),
        lambda: amend_algo_body(SYMBOL, new_sz=Decimal(1)),
        lambda: amend_algo_body(SYMBOL, algo_id="7", new_sz=Decimal(0)),
        lambda: amend_algo_body(SYMBOL, algo_id="7", new_sl_trigger_px_type="best"),
        lambda: cancel_algo_item(SYMBOL, None, None),
    ):
        with pytest.raises(OkxInvalidRequest):
            bad()


ALGO_CALLS: dict[str, Callable[[OkxClient], object]] = {
    "place_algo_order": lambda c: c.place_algo_order(_stop()),
    "amend_algo_order": lambda c: c.amend_algo_order(SYMBOL, algo_id="7", new_sz=Decimal(1)),
    "cancel_algo_orders": lambda c: c.cancel_algo_orders(SYMBOL, [("7", None)]),
}


@pytest.mark.parametrize("call", ALGO_CALLS.values(), ids=ALGO_CALLS.keys())
def test_an_unarmed_client_sends_no_algo_request(call: Callable[[OkxClient], object]) -> None:
    session = FakeSession()
    with pytest.raises(OkxNotArmed):
        call(make_client(session, armed=False))
    assert session.sent == []


def test_placing_a_stop_sends_the_rendered_body_and_returns_the_ack() -> None:
    session = FakeSession(okx([_algo_ack()]))
    ack = make_client(session, armed=True).place_algo_order(_stop())
    assert ack.ok and (ack.algoId, ack.algoClOrdId) == ("1836487817828872192", "ertwS1")
    assert session.paths() == ["/api/v5/trade/order-algo"]
    assert json.loads(session.body()) == _stop()
    assert '"reduceOnly":true' in session.body()


@pytest.mark.parametrize(
    ("s_code", "error"),
    [
        ("51065", OkxDuplicateClOrdId),  # it exists: adopt it
        ("51280", OkxStopPriceRefused),
        ("51304", OkxStopPriceRefused),
        ("51308", OkxStopPriceRefused),
        ("51169", OkxApiError),
    ],
)
def test_a_refused_stop_raises_its_class(s_code: str, error: type[OkxApiError]) -> None:
    session = FakeSession(okx([_algo_ack(s_code=s_code)], code="1", msg="All operations failed"))
    with pytest.raises(error) as caught:
        make_client(session, armed=True).place_algo_order(_stop())
    assert caught.value.s_code == s_code
    assert caught.value.items[0].algoClOrdId == "ertwS1"


@pytest.mark.parametrize(
    "reply",
    [
        okx([], code="50004", msg="Endpoint request timeout. ", status=400),
        raw(502, "<html>bad gateway</html>"),
        requests.ConnectionError("reset by peer"),
        okx([{"sCode": "0"}, {"sCode": "0"}]),  # two results for one algo
    ],
)
def test_a_stop_whose_answer_does_not_say_is_ambiguous(reply: Any) -> None:
    session = FakeSession(reply)
    with pytest.raises(OkxAmbiguousOutcome):
        make_client(session, armed=True).place_algo_order(_stop())
    assert len(session.sent) == 1  # sent once, never resent


def test_a_bad_algo_payload_is_not_sent() -> None:
    session = FakeSession()
    client = make_client(session, armed=True)
    for payload in (
        {"sz": "1"},
        {"instId": SYMBOL, "sz": Decimal(1)},
        {"instId": SYMBOL, "algoClOrdId": "a_b"},
    ):
        with pytest.raises(OkxInvalidRequest):
            client.place_algo_order(payload)
    assert session.sent == []


def test_amend_and_cancel_answer_per_item() -> None:
    session = FakeSession(
        okx([{"algoClOrdId": "", "algoId": "7", "reqId": "r1", "sCode": "0", "sMsg": ""}]),
        okx(
            [_algo_ack("7"), _algo_ack("8", s_code="51416")],
            code="2",
            msg="Bulk operation partially succeeded.",
        ),
        okx([_algo_ack("9", s_code="51400")], code="1", msg="All operations failed"),
    )
    client = make_client(session, armed=True)
    amended = client.amend_algo_order(SYMBOL, algo_id="7", new_sl_trigger_px=Decimal("2950"), req_id="r1")
    assert amended.ok and amended.reqId == "r1"
    acks = client.cancel_algo_orders(SYMBOL, [("7", None), (None, "ertwS1")])
    assert [(a.algoId, a.sCode) for a in acks] == [("7", "0"), (None, "51416")]
    assert json.loads(session.body(1)) == [
        {"instId": SYMBOL, "algoId": "7"},
        {"instId": SYMBOL, "algoClOrdId": "ertwS1"},
    ]
    with pytest.raises(OkxIncorrectOrderState):
        client.cancel_algo_orders(SYMBOL, [("9", None)])


def test_more_than_ten_cancels_are_refused_before_sending() -> None:
    session = FakeSession()
    with pytest.raises(OkxInvalidRequest):
        make_client(session, armed=True).cancel_algo_orders(SYMBOL, [(str(i), None) for i in range(11)])
    assert session.sent == []


def test_pending_algos_are_read_page_by_page() -> None:
    first = [_algo_obj(str(1000 - i)) for i in range(100)]
    session = FakeSession(okx(first), okx([_algo_obj("800", state="pause")]))
    algos = make_client(session).list_pending_algos(SYMBOL)
    assert len(algos) == 101 and algos[-1].state == "pause"
    assert algos[0].slOrdPx == Decimal(-1) and algos[0].slTriggerPxType == "mark"
    assert session.query(0) == {
        "ordType": "conditional,oco",
        "instType": "SWAP",
        "instId": SYMBOL,
        "limit": "100",
    }
    assert session.query(1)["after"] == "901"


def test_one_algo_by_client_id_and_an_unknown_one() -> None:
    session = FakeSession(
        okx(
            [
                _algo_obj(
                    "5", state="effective", ordIdList=["42"], actualSz="0.33", triggerTime="1700000001000"
                )
            ]
        ),
        okx([], code="51603", msg="Order does not exist"),
        okx([_algo_obj("6", algoClOrdId="other")]),
    )
    client = make_client(session)
    algo = client.get_algo_order(algo_client_order_id="ertwS1")
    assert (algo.ordIdList, algo.actualSz, algo.triggerTime, algo.pending) == (
        ("42",),
        Decimal("0.33"),
        1700000001000,
        False,
    )
    assert session.query(0) == {"algoClOrdId": "ertwS1"}
    with pytest.raises(OkxOrderNotFound):
        client.get_algo_order(algo_id="404")
    with pytest.raises(OkxInvalidPayload):
        client.get_algo_order(algo_client_order_id="ertwS1")  # answered with another algo


def test_history_needs_a_state_or_an_algo_id() -> None:
    client = make_client(FakeSession())
    cases: list[dict[str, Any]] = [{}, {"state": "live"}, {"state": "canceled", "algo_id": "1"}]
    for kwargs in cases:
        with pytest.raises(OkxInvalidRequest):
            client.list_algo_history(SYMBOL, **kwargs)
