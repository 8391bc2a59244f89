"""The fixed interface other packages code against: names, record fields, client signature."""

from __future__ import annotations

import dataclasses
import inspect

import exchange

BRIEF_NAMES = [
    "OkxClient",
    "render_post_only_limit_order_payload",
    "render_eth_entry_batch_payloads",
    "build_contract_size",
    "build_client_order_id",
    "OkxOrder",
    "OkxFill",
    "OkxOrderAck",
    "Instrument",
    "Position",
    "Balance",
    "Candle",
    "AccountConfig",
    "OkxError",
    "OkxInvalidPayload",
    "OkxNotArmed",
    "OkxInvalidRequest",
    "OkxAmbiguousOutcome",
    "OkxTransportError",
    "OkxApiError",
    "OkxRateLimited",
    "OkxAuthError",
    "OkxTimestampError",
    "OkxDuplicateClOrdId",
    "OkxOrderNotFound",
    "OkxIncorrectOrderState",
    "OkxInsufficientBalance",
    "OkxInvalidSizeOrPrice",
    "OkxServiceUnavailable",
    # issue 19: the stop on the exchange
    "OkxAlgoOrder",
    "OkxStopPriceRefused",
    "render_stop_payload",
    "stop_trigger_price",
    "amend_algo_body",
    "cancel_algo_item",
    # issue 20: Cancel All After
    "OkxCancelAllAfter",
]

RECORD_FIELDS = {
    exchange.OkxOrder: (
        "instId ordId clOrdId tag px sz ordType side posSide tdMode state accFillSz avgPx fillPx fillSz "
        "fillTime tradeId fee feeCcy cancelSource reduceOnly algoId algoClOrdId cTime uTime raw"
    ),
    exchange.OkxFill: (
        "instId tradeId ordId clOrdId billId fillPx fillSz side posSide execType fee feeCcy fillTime ts raw"
    ),
    exchange.OkxOrderAck: "ordId clOrdId tag ts sCode sMsg subCode algoId algoClOrdId reqId raw",
    exchange.OkxCancelAllAfter: "triggerTime tag ts raw",
    exchange.OkxAlgoOrder: (
        "instId algoId algoClOrdId ordType state side posSide tdMode sz closeFraction reduceOnly slTriggerPx "
        "slOrdPx slTriggerPxType tpTriggerPx tpOrdPx tpTriggerPxType ordId ordIdList actualSz actualPx "
        "actualSide triggerTime failCode tag cTime uTime raw"
    ),
    exchange.Instrument: (
        "instId instType ctVal ctMult ctValCcy tickSz lotSz minSz maxLmtSz lever state settleCcy raw"
    ),
    exchange.Position: "instId posSide mgnMode pos avgPx upl markPx liqPx cTime uTime raw",
    exchange.Balance: "totalEq uTime details raw",
    exchange.Candle: "ts o h l c vol confirm raw",
    exchange.AccountConfig: "uid acctLv posMode raw",
}


def test_every_name_of_the_brief_is_importable_from_exchange() -> None:
    missing = [name for name in BRIEF_NAMES if not hasattr(exchange, name)]
    assert missing == []


def test_records_are_frozen_with_okx_field_names_and_raw_excluded_from_comparison() -> None:
    for cls, names in RECORD_FIELDS.items():
        fields = dataclasses.fields(cls)
        assert [f.name for f in fields] == names.split(), cls.__name__
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        raw = fields[-1]
        assert not raw.compare and not raw.repr


def test_client_constructor_and_methods_match_the_brief() -> None:
    params = inspect.signature(exchange.OkxClient).parameters
    assert list(params)[:3] == ["api_key", "secret_key", "passphrase"]
    assert {k: params[k].default for k in ("base_url", "demo", "armed", "timeout", "session")} == {
        "base_url": "https://www.okx.com",
        "demo": True,
        "armed": False,
        "timeout": 10.0,
        "session": None,
    }
    for method in [
        "list_open_orders",
        "get_order",
        "list_fills",
        "list_fills_since",
        "get_balance",
        "get_positions",
        "get_instrument",
        "get_candles",
        "get_server_time",
        "sync_time",
        "now_ms",
        "get_account_config",
        "place_order",
        "place_batch_orders",
        "cancel_order",
        "cancel_batch_orders",
        "close_position",
        "place_algo_order",
        "amend_algo_order",
        "cancel_algo_orders",
        "list_pending_algos",
        "list_algo_history",
        "get_algo_order",
        "cancel_all_after",
    ]:
        assert callable(getattr(exchange.OkxClient, method)), method


def test_error_hierarchy_keeps_ambiguous_apart_from_rejections() -> None:
    assert issubclass(exchange.OkxOrderNotFound, exchange.OkxApiError)
    assert issubclass(exchange.OkxApiError, exchange.OkxError)
    assert issubclass(exchange.OkxAmbiguousOutcome, exchange.OkxError)
    assert not issubclass(exchange.OkxAmbiguousOutcome, exchange.OkxApiError | exchange.OkxTransportError)
    assert issubclass(exchange.OkxInvalidRequest, ValueError)
    assert issubclass(exchange.OkxStopPriceRefused, exchange.OkxInvalidSizeOrPrice)
