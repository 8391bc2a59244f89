"""Trading: arming, request bodies, and the three POST outcomes (not sent, rejected, ambiguous)."""

from __future__ import annotations

import json
import socket
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
    OkxInvalidRequest,
    OkxNotArmed,
    OkxOrderNotFound,
    OkxTransportError,
    render_eth_entry_batch_payloads,
)
from tests.exchange.okx_fakes import (
    FakeSession,
    Reply,
    eth_instrument,
    loopback_server,
    make_client,
    okx,
    raw,
)

SYMBOL = "ETH-USDT-SWAP"


def _ack(cl: str = "ertw1r1a0", ord_id: str = "1", s_code: str = "0", s_msg: str = "") -> dict[str, str]:
    return {
        "clOrdId": cl,
        "ordId": ord_id if s_code == "0" else "",
        "tag": "",
        "ts": "1700000000000",
        "sCode": s_code,
        "sMsg": s_msg,
        "subCode": "",
    }


def _ladder() -> list[dict[str, str]]:
    return render_eth_entry_batch_payloads(
        reference_px=Decimal("3000"),
        notional_per_rung=Decimal("1000"),
        instrument=eth_instrument(),
        signal_ts_ms=1700000000000,
        prefix="ertw",
    )


TRADING_CALLS: dict[str, Callable[[OkxClient], object]] = {
    "place_order": lambda c: c.place_order(SYMBOL, side="buy", ord_type="market", sz=Decimal(1)),
    "place_batch_orders": lambda c: c.place_batch_orders(SYMBOL, _ladder()),
    "cancel_order": lambda c: c.cancel_order(SYMBOL, ord_id="1"),
    "cancel_batch_orders": lambda c: c.cancel_batch_orders(SYMBOL, [("1", None)]),
    "close_position": lambda c: c.close_position(SYMBOL, "long", "isolated"),
    "set_leverage": lambda c: c.set_leverage(SYMBOL, Decimal(5), "cross"),
    "cancel_all_after": lambda c: c.cancel_all_after(10, "caa1"),
    "place_order with bad arguments": lambda c: c.place_order(
        SYMBOL, side="up", ord_type="?", sz=Decimal(-1)
    ),
}


@pytest.mark.parametrize("call", TRADING_CALLS.values(), ids=TRADING_CALLS.keys())
def test_unarmed_client_refuses_trading_before_any_request(
    call: Callable[[OkxClient], object], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_connect(self: socket.socket, address: Any) -> None:
        raise AssertionError("an unarmed client opened a connection")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    session = FakeSession()
    client = make_client(session, armed=False)
    with pytest.raises(OkxNotArmed):
        call(client)
    assert session.sent == []
    assert client.armed is False


def test_place_post_only_order_body() -> None:
    session = FakeSession(okx([_ack()]))
    ack = make_client(session, armed=True).place_order(
        SYMBOL,
        side="buy",
        ord_type="post_only",
        sz=Decimal("3.34"),
        px=Decimal("2991.00"),
        pos_side="long",
        client_order_id="ertw1r1a0",
    )
    assert ack.ok and ack.ordId == "1" and ack.clOrdId == "ertw1r1a0" and ack.subCode is None
    assert session.paths() == ["/api/v5/trade/order"]
    assert json.loads(session.body()) == {
        "instId": SYMBOL,
        "tdMode": "isolated",
        "clOrdId": "ertw1r1a0",
        "side": "buy",
        "posSide": "long",
        "ordType": "post_only",
        "px": "2991.00",
        "sz": "3.34",
    }


def test_place_market_order_sends_reduce_only_as_a_json_boolean() -> None:
    session = FakeSession(okx([_ack()]))
    make_client(session, armed=True).place_order(
        SYMBOL, side="sell", ord_type="market", sz=Decimal("1E+1"), td_mode="cross", reduce_only=True
    )
    assert session.body() == (
        '{"instId":"ETH-USDT-SWAP","tdMode":"cross","side":"sell","ordType":"market",'
        '"sz":"10","reduceOnly":true}'
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ord_type": "limit"},
        {"ord_type": "market", "px": Decimal(1)},
        {"ord_type": "stop"},
        {"ord_type": "market", "sz": Decimal(0)},
        {"ord_type": "market", "client_order_id": "bad_id"},
    ],
)
def test_place_order_refuses_bad_arguments_without_sending(kwargs: dict[str, Any]) -> None:
    session = FakeSession()
    args: dict[str, Any] = {"side": "buy", "sz": Decimal(1), **kwargs}
    with pytest.raises(OkxInvalidRequest):
        make_client(session, armed=True).place_order(SYMBOL, **args)
    assert session.sent == []


def test_place_order_refused_with_an_item_code_raises_that_codes_class() -> None:
    session = FakeSession(
        okx(
            [_ack(s_code="51016", s_msg="Client order ID already exists.")],
            code="1",
            msg="All operations failed",
        )
    )
    with pytest.raises(OkxDuplicateClOrdId) as info:
        make_client(session, armed=True).place_order(SYMBOL, side="buy", ord_type="market", sz=Decimal(1))
    err = info.value
    assert (err.code, err.msg, err.s_code, err.s_msg, err.http_status) == (
        "1",
        "All operations failed",
        "51016",
        "Client order ID already exists.",
        200,
    )
    assert [a.sCode for a in err.items] == ["51016"]


def test_batch_orders_send_the_rendered_payloads_as_one_json_array() -> None:
    ladder = _ladder()
    acks = [_ack(p["clOrdId"], str(i)) for i, p in enumerate(ladder)]
    session = FakeSession(okx(acks))
    result = make_client(session, armed=True).place_batch_orders(SYMBOL, ladder)
    assert session.paths() == ["/api/v5/trade/batch-orders"]
    assert json.loads(session.body()) == ladder
    assert [a.clOrdId for a in result] == [p["clOrdId"] for p in ladder] and all(a.ok for a in result)


def test_batch_partial_success_returns_every_ack() -> None:
    ladder = _ladder()
    session = FakeSession(
        okx(
            [
                _ack(ladder[0]["clOrdId"]),
                _ack(ladder[1]["clOrdId"], s_code="51008"),
                _ack(ladder[2]["clOrdId"]),
            ],
            code="2",
            msg="Bulk operation partially succeeded.",
        )
    )
    acks = make_client(session, armed=True).place_batch_orders(SYMBOL, ladder)
    assert [a.ok for a in acks] == [True, False, True] and acks[1].sCode == "51008"


def test_batch_where_every_item_failed_raises_api_error_holding_the_acks() -> None:
    ladder = _ladder()
    session = FakeSession(
        okx(
            [_ack(p["clOrdId"], s_code="51008", s_msg="Insufficient USDT margin") for p in ladder],
            code="1",
            msg="All operations failed",
        )
    )
    with pytest.raises(OkxApiError) as info:
        make_client(session, armed=True).place_batch_orders(SYMBOL, ladder)
    assert [a.clOrdId for a in info.value.items] == [p["clOrdId"] for p in ladder]
    assert info.value.s_code == "51008"


def test_operation_failed_without_items_is_a_rejection_of_the_whole_request() -> None:
    session = FakeSession(okx([], code="1", msg="Operation failed."))
    with pytest.raises(OkxApiError) as info:
        make_client(session, armed=True).place_batch_orders(SYMBOL, _ladder())
    assert (info.value.code, info.value.items) == ("1", ())


@pytest.mark.parametrize(
    "payloads",
    [
        [],
        _ladder() * 7,
        [{**_ladder()[0], "instId": "BTC-USDT-SWAP"}],
        [_ladder()[0], _ladder()[0]],
        [{**_ladder()[0], "tag": "caa_1"}],
    ],
    ids=["empty", "over 20", "other symbol", "duplicate clOrdId", "bad tag"],
)
def test_batch_refuses_what_okx_would_refuse_without_sending(payloads: list[dict[str, str]]) -> None:
    session = FakeSession()
    with pytest.raises(OkxInvalidRequest):
        make_client(session, armed=True).place_batch_orders(SYMBOL, payloads)
    assert session.sent == []


def test_cancel_order_body_by_ord_id_and_by_client_order_id() -> None:
    session = FakeSession(okx([_ack()]), okx([_ack()]))
    client = make_client(session, armed=True)
    client.cancel_order(SYMBOL, ord_id="12345689")
    client.cancel_order(SYMBOL, client_order_id="ertw1r1a0")
    assert session.paths() == ["/api/v5/trade/cancel-order"] * 2
    assert [session.body(0), session.body(1)] == [
        '{"instId":"ETH-USDT-SWAP","ordId":"12345689"}',
        '{"instId":"ETH-USDT-SWAP","clOrdId":"ertw1r1a0"}',
    ]


def test_cancel_batch_body_lists_each_order_by_ord_id_or_client_order_id() -> None:
    session = FakeSession(okx([_ack("a", "1"), _ack("b", "2")]))
    make_client(session, armed=True).cancel_batch_orders(SYMBOL, [("1", "a"), (None, "b")])
    assert session.paths() == ["/api/v5/trade/cancel-batch-orders"]
    assert json.loads(session.body()) == [
        {"instId": SYMBOL, "ordId": "1"},
        {"instId": SYMBOL, "clOrdId": "b"},
    ]


def test_cancel_of_a_filled_or_canceled_order_is_an_incorrect_state_not_not_found() -> None:
    msg = "Order cancellation failed as the order has been filled, canceled or does not exist"
    session = FakeSession(okx([_ack(s_code="51400", s_msg=msg)], code="1", msg="All operations failed"))
    with pytest.raises(OkxIncorrectOrderState) as info:
        make_client(session, armed=True).cancel_order(SYMBOL, client_order_id="ertw1r1a0")
    assert not isinstance(info.value, OkxOrderNotFound)


def test_cancel_needs_an_id() -> None:
    with pytest.raises(OkxInvalidRequest):
        make_client(FakeSession(), armed=True).cancel_batch_orders(SYMBOL, [(None, None)])


def test_close_position_body_and_answer() -> None:
    session = FakeSession(okx([{"clOrdId": "ertw1r0a0", "instId": SYMBOL, "posSide": "long", "tag": ""}]))
    answer = make_client(session, armed=True).close_position(
        SYMBOL, "long", "isolated", client_order_id="ertw1r0a0"
    )
    assert session.paths() == ["/api/v5/trade/close-position"]
    assert json.loads(session.body()) == {
        "instId": SYMBOL,
        "mgnMode": "isolated",
        "posSide": "long",
        "clOrdId": "ertw1r0a0",
    }
    assert answer["posSide"] == "long" and answer["clOrdId"] == "ertw1r0a0"


def test_close_position_refused_raises_api_error() -> None:
    session = FakeSession(okx([], code="51023", msg="Position doesn't exist."))
    with pytest.raises(OkxApiError) as info:
        make_client(session, armed=True).close_position(SYMBOL, "long", "isolated")
    assert info.value.code == "51023"


AMBIGUOUS: dict[str, Reply | BaseException] = {
    "timeout": requests.exceptions.ReadTimeout("read timed out"),
    "connection reset after send": requests.exceptions.ConnectionError("Connection aborted."),
    "truncated body": requests.exceptions.ChunkedEncodingError("incomplete read"),
    "HTTP 503 with OKX body": raw(
        503, {"code": "50001", "msg": "Service temporarily unavailable", "data": []}
    ),
    "HTTP 500 numeric code": raw(500, {"code": 500, "data": {}, "msg": "server error 1236805249"}),
    "HTTP 502 HTML": raw(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "50004 endpoint timeout": raw(400, {"code": "50004", "data": [], "msg": "Endpoint request timeout. "}),
    "51149 order timed out": okx(
        [_ack(s_code="51149", s_msg="Order timed out")], code="1", msg="All operations failed"
    ),
    "HTTP 200 not JSON": raw(200, "OK"),
    "HTTP 200 no ack": okx([]),
}


@pytest.mark.parametrize("answer", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_ambiguous_submit_does_not_mark_rejected(answer: Reply | BaseException) -> None:
    session = FakeSession(answer)
    with pytest.raises(OkxAmbiguousOutcome) as info:
        make_client(session, armed=True).place_batch_orders(SYMBOL, _ladder())
    assert not isinstance(info.value, OkxApiError | OkxOrderNotFound | OkxTransportError)
    assert len(session.sent) == 1  # a write is never retried blindly


@pytest.mark.parametrize("answer", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_ambiguous_cancel_and_close_are_ambiguous_too(answer: Reply | BaseException) -> None:
    client = make_client(FakeSession(answer, answer), armed=True)
    with pytest.raises(OkxAmbiguousOutcome):
        client.cancel_order(SYMBOL, client_order_id="ertw1r1a0")
    with pytest.raises(OkxAmbiguousOutcome):
        client.close_position(SYMBOL, "long", "isolated")


def test_a_batch_item_with_unknown_outcome_makes_the_batch_ambiguous() -> None:
    ladder = _ladder()
    session = FakeSession(
        okx(
            [
                _ack(ladder[0]["clOrdId"]),
                _ack(ladder[1]["clOrdId"], s_code="51149"),
                _ack(ladder[2]["clOrdId"], s_code="51008"),
            ],
            code="2",
        )
    )
    with pytest.raises(OkxAmbiguousOutcome) as info:
        make_client(session, armed=True).place_batch_orders(SYMBOL, ladder)
    assert [a.sCode for a in info.value.items] == ["0", "51149", "51008"]


def test_connection_dropped_after_the_request_was_sent_is_ambiguous() -> None:
    with loopback_server(lambda req: None) as (base_url, received):
        client = make_client(None, armed=True, base_url=base_url)
        with pytest.raises(OkxAmbiguousOutcome):
            client.place_batch_orders(SYMBOL, _ladder())
        client.close()
    assert len(received) == 1 and json.loads(received[0].body) == _ladder()


def test_connection_refused_means_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(None, armed=True, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(OkxTransportError) as info:
        client.place_batch_orders(SYMBOL, _ladder())
    assert info.value.sent is False
    assert not isinstance(info.value, OkxAmbiguousOutcome)


def test_set_leverage_body_names_the_side_only_when_given_and_answers_its_item() -> None:
    item = {"instId": SYMBOL, "lever": "5", "mgnMode": "isolated", "posSide": "long"}
    session = FakeSession(okx([item]))
    answer = make_client(session, armed=True).set_leverage(SYMBOL, Decimal("5.0"), "isolated", "long")
    assert answer == item
    assert session.paths() == ["/api/v5/account/set-leverage"]
    assert json.loads(session.body()) == {
        "instId": SYMBOL,
        "lever": "5.0",
        "mgnMode": "isolated",
        "posSide": "long",
    }
    with pytest.raises(OkxInvalidRequest):
        make_client(FakeSession(), armed=True).set_leverage(SYMBOL, Decimal(0), "cross")
