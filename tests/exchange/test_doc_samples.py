"""Every documented OKX response example (fixtures/doc_samples, copied unchanged) parses."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exchange.records import (
    MARKET_PX,
    parse_account_config,
    parse_ack,
    parse_algo_order,
    parse_balance,
    parse_candle,
    parse_fill,
    parse_instrument,
    parse_order,
    parse_position,
    parse_server_time,
)
from exchange.wire import decode_envelope
from tests.exchange.okx_fakes import FakeSession, Reply, make_client

SAMPLES = Path(__file__).parent / "fixtures" / "doc_samples"

PARSER_OF: dict[str, Callable[[Any], object]] = {
    "account_balance.json": parse_balance,
    "account_config.json": parse_account_config,
    "account_positions.json": parse_position,
    "market_candles.json": parse_candle,
    "public_instruments_spot.json": parse_instrument,
    "public_time.json": parse_server_time,
    "trade_batch_orders.2026-01-variant.json": parse_ack,
    "trade_batch_orders.json": parse_ack,
    "trade_cancel_batch_orders.json": parse_ack,
    "trade_cancel_order.json": parse_ack,
    "trade_close_position.json": dict,
    "trade_fills.json": parse_fill,
    "trade_fills_history.json": parse_fill,
    "trade_order_get.json": parse_order,
    "trade_order_post.2026-01-variant.json": parse_ack,
    "trade_order_post.json": parse_ack,
    "trade_orders_pending.json": parse_order,
    "trade_order_algo_post.json": parse_ack,
    "trade_amend_algos.json": parse_ack,
    "trade_cancel_algos.json": parse_ack,
    "trade_orders_algo_pending.json": parse_algo_order,
    "trade_orders_algo_history.json": parse_algo_order,
    "trade_order_algo_get.json": parse_algo_order,
}


def test_every_sample_file_has_a_parser() -> None:
    assert sorted(p.name for p in SAMPLES.glob("*.json")) == sorted(PARSER_OF)


@pytest.mark.parametrize("name", sorted(PARSER_OF))
def test_doc_sample_parses(name: str) -> None:
    env = decode_envelope(200, (SAMPLES / name).read_bytes())
    assert env.code == "0" and env.data
    records = [PARSER_OF[name](item) for item in env.data]
    assert all(getattr(r, "raw", item) == item for r, item in zip(records, env.data, strict=True))


def _client_answering(name: str, armed: bool = False) -> tuple[Any, FakeSession]:
    session = FakeSession(Reply(200, (SAMPLES / name).read_bytes()))
    return make_client(session, armed=armed), session


def test_pending_orders_sample_keeps_the_19_digit_ord_id_as_a_string() -> None:
    client, _ = _client_answering("trade_orders_pending.json")
    [order] = client.list_open_orders("BTC-USDT")
    assert order.ordId == "1752588852617379840" and order.ordType == "post_only" and order.avgPx is None
    assert order.px == Decimal("13013.5") and order.fillTime is None and order.reduceOnly is False


def test_order_details_sample_through_the_client() -> None:
    client, _ = _client_answering("trade_order_get.json")
    order = client.get_order("BTC-USDT", ord_id="680800019749904384")
    assert order.state == "filled" and order.accFillSz == Decimal("0.00192834") and order.clOrdId is None


def test_fills_sample_through_the_client() -> None:
    client, _ = _client_answering("trade_fills.json")
    [fill] = client.list_fills_since("BTC-USDT", None)
    assert (fill.billId, fill.tradeId, fill.fee, fill.clOrdId) == (
        "680800019754098688",
        "744876980",
        Decimal("-0.00000192834"),
        None,
    )


def test_place_order_samples_with_and_without_sub_code() -> None:
    for name in ("trade_order_post.json", "trade_order_post.2026-01-variant.json"):
        client, _ = _client_answering(name, armed=True)
        ack = client.place_order("BTC-USDT", side="buy", ord_type="market", sz=Decimal(1), td_mode="cash")
        assert ack.ok and ack.ordId == "312269865356374016" and ack.subCode is None


def test_spot_instrument_sample_has_unit_contracts_and_tolerates_json_numbers() -> None:
    client, _ = _client_answering("public_instruments_spot.json")
    inst = client.get_instrument("BTC-USDT")
    assert (inst.ctVal, inst.ctMult, inst.ctValCcy) == (Decimal(1), Decimal(1), None)
    assert inst.lotSz == Decimal("0.00000001") and inst.raw["instIdCode"] == 1000000000


def test_balance_sample_tolerates_json_booleans() -> None:
    client, _ = _client_answering("account_balance.json")
    balance = client.get_balance()
    assert balance.totalEq == Decimal("55837.43556134779")
    assert balance.details[0].ccy == "USDT" and balance.details[0].raw["collateralEnabled"] is False


def test_candles_sample_confirm_flags() -> None:
    client, _ = _client_answering("market_candles.json")
    assert [c.confirm for c in client.get_candles("BTC-USDT", "1m", limit=2)] == [False, True]


def test_algo_history_sample_through_the_client() -> None:
    client, session = _client_answering("trade_orders_algo_history.json")
    [algo] = client.list_algo_history("BTC-USDT-SWAP", state="effective")
    assert (algo.algoId, algo.ordType, algo.state, algo.posSide) == (
        "1880721064716505088",
        "oco",
        "effective",
        "long",
    )
    assert (algo.slTriggerPx, algo.slOrdPx, algo.slTriggerPxType) == (Decimal(57000), MARKET_PX, "mark")
    assert algo.ordIdList == ("1884789786215137280",) and algo.actualSide == "tp" and algo.actualPx is None
    assert (algo.closeFraction, algo.reduceOnly, algo.triggerTime) == (Decimal(1), True, 1728673513447)
    assert session.query() == {
        "ordType": "conditional,oco",
        "state": "effective",
        "instType": "SWAP",
        "instId": "BTC-USDT-SWAP",
        "limit": "100",
    }


def test_algo_details_sample_through_the_client() -> None:
    client, _ = _client_answering("trade_order_algo_get.json")
    algo = client.get_algo_order(algo_id="1753184812254216192")
    assert (algo.state, algo.pending, algo.sz, algo.tpTriggerPx, algo.slTriggerPx) == (
        "live",
        True,
        Decimal(10),
        Decimal(10000),
        None,
    )
    assert algo.ordIdList == () and algo.algoClOrdId is None and algo.failCode == "0"


def test_place_algo_sample_through_the_client() -> None:
    client, _ = _client_answering("trade_order_algo_post.json", armed=True)
    ack = client.place_algo_order({"instId": "BTC-USDT-SWAP", "algoClOrdId": "order1234", "reduceOnly": True})
    assert ack.ok and (ack.algoId, ack.algoClOrdId, ack.ordId) == ("1836487817828872192", "order1234", None)
