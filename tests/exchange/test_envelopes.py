"""Error envelopes seen in real traffic (facts sheet sections 3 and 4) and malformed payloads."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange import (
    OkxAmbiguousOutcome,
    OkxApiError,
    OkxAuthError,
    OkxDuplicateClOrdId,
    OkxError,
    OkxIncorrectOrderState,
    OkxInsufficientBalance,
    OkxInvalidPayload,
    OkxInvalidSizeOrPrice,
    OkxOrderNotFound,
    OkxRateLimited,
    OkxServiceUnavailable,
    OkxTimestampError,
)
from exchange.errors import CODE_CLASSES, api_error
from exchange.records import (
    parse_account_config,
    parse_ack,
    parse_balance,
    parse_candle,
    parse_fill,
    parse_instrument,
    parse_order,
    parse_position,
)
from exchange.wire import decode_envelope
from tests.exchange.okx_fakes import ETH_SWAP, FakeSession, Reply, fill_obj, make_client, okx, order_obj, raw

SYMBOL = "ETH-USDT-SWAP"
HTML_502 = raw(
    502,
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway"
    "</h1></center><hr><center>cloudflare</center></body></html>",
)
NUMERIC_CODE = raw(
    500,
    {
        "code": 500,
        "data": {},
        "detailMsg": "",
        "error_code": "500",
        "error_message": "server error 1236805249",
        "msg": "server error 1236805249",
    },
)
TOO_MANY = raw(429, '{"msg":"Too Many Requests","code":"50011"}')
TOO_MANY_NUMERIC = raw(429, '{"msg":"Requests too frequent.","code":50011}')  # 2021, facts sheet 4 and 13
UNKNOWN_PATH = raw(404, '{"code":404,"data":{},"msg":"Not Found"}')
INVALID_SIGN = raw(401, '{"msg":"Invalid Sign","code":"50113"}')
CODE_1 = raw(
    200,
    '{"code":"1","data":[{"clOrdId":"273942d2","ordId":"","sCode":"51000","sMsg":"Parameter px error ",'
    '"tag":"","ts":"1744331107771"}],"inTime":"1744331107770195","msg":"All operations failed",'
    '"outTime":"1744331107773498"}',
)
NOT_FOUND = raw(200, '{"code":"51603","msg":"Order does not exist","data":[]}')


def _place(client: Any) -> object:
    return client.place_order(SYMBOL, side="buy", ord_type="limit", sz=Decimal(1), px=Decimal(2000))


def _read(client: Any) -> object:
    return client.get_order(SYMBOL, client_order_id="ertw1r1a0")


CASES: list[tuple[str, Reply, Callable[[Any], object], type[OkxError]]] = [
    ("HTTP 429 without data, read", TOO_MANY, _read, OkxRateLimited),
    ("HTTP 429 without data, write", TOO_MANY, _place, OkxRateLimited),
    ("HTTP 401 Invalid Sign, read", INVALID_SIGN, _read, OkxAuthError),
    ("HTTP 401 Invalid Sign, write", INVALID_SIGN, _place, OkxAuthError),
    ("code 1 with sCode", CODE_1, _place, OkxApiError),
    ("top-level 51603", NOT_FOUND, _read, OkxOrderNotFound),
    (
        "HTTP 400 top-level 51000",
        raw(400, '{"code":"51000","data":[],"msg":"Parameter instId  error"}'),
        _read,
        OkxApiError,
    ),
    ("numeric code with data object, read", NUMERIC_CODE, _read, OkxApiError),
    ("numeric code with data object, write", NUMERIC_CODE, _place, OkxAmbiguousOutcome),  # HTTP 500
    ("numeric code at HTTP 429, read", TOO_MANY_NUMERIC, _read, OkxRateLimited),
    ("numeric code at HTTP 429, write", TOO_MANY_NUMERIC, _place, OkxRateLimited),
    ("HTTP 404 numeric code with data object, read", UNKNOWN_PATH, _read, OkxApiError),
    ("HTTP 404 numeric code with data object, write", UNKNOWN_PATH, _place, OkxApiError),
    ("HTML 502, read", HTML_502, _read, OkxInvalidPayload),
    ("HTML 502, write", HTML_502, _place, OkxAmbiguousOutcome),
    (
        "HTTP 503 50001, read",
        raw(503, '{"code":"50001","msg":"Service temporarily unavailable","data":[]}'),
        _read,
        OkxServiceUnavailable,
    ),
    (
        "HTTP 401 50101 wrong environment",
        raw(401, '{"msg":"APIKey does not match current environment.","code":"50101"}'),
        _read,
        OkxAuthError,
    ),
]


@pytest.mark.parametrize(("reply", "call", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_envelopes_land_in_the_right_class(
    reply: Reply, call: Callable[[Any], object], expected: type[OkxError]
) -> None:
    with pytest.raises(OkxError) as info:
        call(make_client(FakeSession(always=reply), armed=True))
    assert type(info.value) is expected


def test_code_1_error_carries_code_message_and_item() -> None:
    with pytest.raises(OkxApiError) as info:
        _place(make_client(FakeSession(CODE_1), armed=True))
    err = info.value
    assert (err.code, err.msg, err.http_status, err.s_code, err.s_msg) == (
        "1",
        "All operations failed",
        200,
        "51000",
        "Parameter px error ",
    )
    assert err.items[0].clOrdId == "273942d2" and err.items[0].ordId is None


def test_code_2_partial_batch_cancel_returns_each_result() -> None:
    body = (
        '{"code":"2","data":[{"clOrdId":"a","ordId":"1","ts":"1","sCode":"51401","sMsg":"Cancellation failed '
        'as the order is already cancelled."},{"clOrdId":"b","ordId":"2","ts":"1","sCode":"0","sMsg":""}],'
        '"msg":"Bulk operation partially succeeded."}'
    )
    acks = make_client(FakeSession(raw(200, body)), armed=True).cancel_batch_orders(
        SYMBOL, [("1", "a"), ("2", "b")]
    )
    assert [(a.sCode, a.ok) for a in acks] == [("51401", False), ("0", True)]


@pytest.mark.parametrize("code", ["50011", 50011])
def test_a_429_code_string_or_number_is_a_rate_limit_refusal_of_a_post(code: object) -> None:
    """50011 is answered before anything is applied: a definite refusal, never an ambiguous outcome."""
    body = json.dumps({"msg": "Requests too frequent.", "code": code})
    assert decode_envelope(429, body.encode()).code == "50011"
    with pytest.raises(OkxRateLimited) as info:
        _place(make_client(FakeSession(raw(429, body)), armed=True))
    assert (info.value.code, info.value.http_status, info.value.items) == ("50011", 429, ())


@pytest.mark.parametrize("code", ["0", "1", "2", 0, 1, 2])
def test_an_answer_with_results_still_needs_a_data_list(code: object) -> None:
    """Only a request-level error may leave `data` out or send an object: results come in a list."""
    not_a_list: list[object] = [{}, None, "x"]
    for data in not_a_list:
        with pytest.raises(OkxInvalidPayload, match="data"):
            decode_envelope(200, json.dumps({"code": code, "msg": "", "data": data}).encode())


def test_timestamp_expired_without_data_is_a_timestamp_error() -> None:
    session = FakeSession(
        raw(401, '{"msg":"Timestamp request expired","code":"50102"}'),
        okx([{"ts": "1700000000000"}]),
        raw(401, '{"msg":"Timestamp request expired","code":"50102"}'),
    )
    with pytest.raises(OkxTimestampError):
        make_client(session).get_balance()


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("50011", OkxRateLimited),
        ("50113", OkxAuthError),
        ("50102", OkxTimestampError),
        ("51016", OkxDuplicateClOrdId),
        ("51603", OkxOrderNotFound),
        ("51400", OkxIncorrectOrderState),
        ("51008", OkxInsufficientBalance),
        ("51121", OkxInvalidSizeOrPrice),
        ("50001", OkxServiceUnavailable),
        ("59999", OkxApiError),
    ],
)
def test_one_table_maps_codes_to_classes(code: str, cls: type[OkxApiError]) -> None:
    assert type(api_error(code, "m", 200)) is cls
    assert type(api_error("1", "All operations failed", 200, s_code=code)) is cls


def test_ambiguous_outcome_is_no_kind_of_api_error() -> None:
    assert not issubclass(OkxAmbiguousOutcome, OkxApiError)
    assert all(issubclass(cls, OkxApiError) for cls in CODE_CLASSES.values())


# ---- malformed payloads -------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
NOT_A_STRING = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
)


@st.composite
def malformed_bodies(draw: st.DrawFn) -> bytes:
    """Bodies that are not an OKX envelope, by construction."""
    kind = draw(
        st.sampled_from(["bytes", "html", "not object", "code type", "code text", "data type", "msg type"])
    )
    if kind == "bytes":
        blob = draw(st.binary(max_size=64))
        return b"\xff" + blob  # never valid UTF-8 JSON
    if kind == "html":
        return f"<html><body>{draw(st.text(max_size=40))}</body></html>".encode()
    if kind == "not object":
        return json.dumps(draw(JSON.filter(lambda v: not isinstance(v, dict)))).encode()
    envelope: dict[str, Any] = {"code": "0", "msg": "", "data": []}
    if kind == "code type":
        envelope["code"] = draw(NOT_A_STRING.filter(lambda v: not (type(v) is int and v >= 0)))
    elif kind == "code text":
        envelope["code"] = draw(st.text(max_size=6).filter(lambda t: not (t.isascii() and t.isdigit())))
    elif kind == "data type":
        envelope["data"] = draw(NOT_A_STRING.filter(lambda v: not isinstance(v, list)))
    else:
        envelope["msg"] = draw(NOT_A_STRING.filter(lambda v: v is not None))
    return json.dumps(envelope).encode()


@settings(deadline=None)
@given(body=malformed_bodies(), status=st.sampled_from([200, 400, 401, 429]))
def test_malformed_envelopes_raise_only_invalid_payload(body: bytes, status: int) -> None:
    with pytest.raises(OkxInvalidPayload) as info:
        decode_envelope(status, body)
    assert len(info.value.excerpt) <= 200
    with pytest.raises(OkxInvalidPayload):
        make_client(FakeSession(always=Reply(status, body))).list_open_orders(SYMBOL)


BALANCE = {"totalEq": "1", "uTime": "1", "details": [{"ccy": "USDT", "eq": "1", "availBal": "1"}]}
CANDLE = ["1597026383085", "3.721", "3.743", "3.677", "3.708", "8422410", "22698348", "12698348", "0"]
ACK = {"clOrdId": "a", "ordId": "1", "tag": "", "ts": "1", "sCode": "0", "sMsg": ""}
POSITION = {"instId": SYMBOL, "posSide": "long", "mgnMode": "isolated", "pos": "1", "avgPx": "1"}
PARSERS: dict[str, tuple[Callable[[Any], object], dict[str, Any], list[str]]] = {
    "order": (
        parse_order,
        order_obj(),
        ["instId", "ordId", "sz", "ordType", "side", "tdMode", "state", "accFillSz", "cTime", "uTime"],
    ),
    "fill": (
        parse_fill,
        fill_obj(1),
        [
            "instId",
            "tradeId",
            "ordId",
            "billId",
            "fillPx",
            "fillSz",
            "side",
            "fee",
            "feeCcy",
            "fillTime",
            "ts",
        ],
    ),
    "ack": (parse_ack, ACK, ["sCode"]),
    "instrument": (
        parse_instrument,
        ETH_SWAP,
        ["instId", "instType", "ctVal", "ctMult", "tickSz", "lotSz", "minSz", "state"],
    ),
    "position": (parse_position, POSITION, ["instId", "posSide", "mgnMode", "pos"]),
    "balance": (parse_balance, BALANCE, []),
    "account config": (parse_account_config, {"uid": "1", "acctLv": "2", "posMode": "net_mode"}, ["posMode"]),
}


@pytest.mark.parametrize("name", PARSERS)
@given(data=st.data())
def test_records_missing_a_required_field_raise_invalid_payload(name: str, data: st.DataObject) -> None:
    parse, good, required = PARSERS[name]
    parse(good)
    if not required:
        return
    missing = data.draw(st.sampled_from(required))
    with pytest.raises(OkxInvalidPayload, match=missing):
        parse({k: v for k, v in good.items() if k != missing})


@pytest.mark.parametrize("name", PARSERS)
@given(data=st.data())
def test_records_with_any_field_mistyped_parse_or_raise_only_invalid_payload(
    name: str, data: st.DataObject
) -> None:
    parse, good, required = PARSERS[name]
    key = data.draw(st.sampled_from(sorted(good)))
    value = data.draw(JSON | st.sampled_from(["NaN", "Infinity", "1_000", " 1", "1e999999", "0x10", "", "-"]))
    if key in required and (value is None or isinstance(value, bool | list | dict)):
        with pytest.raises(OkxInvalidPayload, match=key):
            parse({**good, key: value})
    else:
        with contextlib.suppress(OkxInvalidPayload):
            parse({**good, key: value})


@pytest.mark.parametrize(
    "value",
    [None, True, [], {}, "NaN", "inf", "1_0", "", "abc", 1.5],
)
def test_order_size_that_is_not_a_decimal_string_is_invalid(value: object) -> None:
    if isinstance(value, float):  # a JSON number is tolerated (account endpoints send some)
        assert parse_order({**order_obj(), "sz": value}).sz == Decimal("1.5")
        return
    with pytest.raises(OkxInvalidPayload, match=r"order\.sz"):
        parse_order({**order_obj(), "sz": value})


@given(row=JSON)
def test_candle_rows_parse_or_raise_only_invalid_payload(row: Any) -> None:
    with contextlib.suppress(OkxInvalidPayload):
        parse_candle(row)
    for i in (0, 1, 2, 3, 4, 5, 8):  # volCcy and volCcyQuote are not read
        bad = [*CANDLE]
        bad[i] = "x"
        with pytest.raises(OkxInvalidPayload):
            parse_candle(bad)


def test_records_ignore_fields_okx_adds_later() -> None:
    assert parse_order({**order_obj(), "brandNewField": {"nested": [1, 2]}}).ordId == order_obj()["ordId"]
