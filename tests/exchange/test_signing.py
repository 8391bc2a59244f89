"""Signing: the facts sheet's worked vectors, headers, and "what is signed is what is sent"."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange import OkxTimestampError
from exchange.signing import iso_timestamp, prehash, request_path, sign
from tests.exchange.okx_fakes import (
    API_KEY,
    PASSPHRASE,
    SECRET,
    T0,
    FakeClock,
    FakeSession,
    Received,
    loopback_server,
    make_client,
    okx,
    order_obj,
    raw,
)

DOC_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
ACK = {"clOrdId": "ertw1r1a0", "ordId": "1", "tag": "", "ts": "1700000000000", "sCode": "0", "sMsg": ""}


@pytest.mark.parametrize(
    ("message", "signature"),
    [
        (
            "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC",
            "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY=",
        ),
        (
            '2020-12-08T09:08:57.715ZPOST/api/v5/account/set-leverage{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}',
            "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8=",
        ),
    ],
)
def test_signature_matches_the_facts_sheet_worked_examples(message: str, signature: str) -> None:
    assert sign(DOC_SECRET, message) == signature


def test_prehash_is_timestamp_method_path_and_body_concatenated() -> None:
    assert prehash("2020-12-08T09:08:57.715Z", "get", "/api/v5/account/balance?ccy=BTC", "") == (
        "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC"
    )


def test_timestamp_is_iso_utc_with_milliseconds_and_z() -> None:
    assert iso_timestamp(1607418537715) == "2020-12-08T09:08:57.715Z"
    assert iso_timestamp(1607418537005) == "2020-12-08T09:08:57.005Z"


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
def test_timestamp_always_has_exactly_three_fraction_digits(ms: int) -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", iso_timestamp(ms))


def test_query_keeps_order_drops_none_and_leaves_commas_raw() -> None:
    assert request_path("/api/v5/x", {"instType": "SWAP", "after": None, "ccy": "BTC,ETH"}) == (
        "/api/v5/x?instType=SWAP&ccy=BTC,ETH"
    )
    assert request_path("/api/v5/x", {}) == "/api/v5/x"


def test_demo_client_sends_simulated_trading_header_on_signed_and_public_requests() -> None:
    session = FakeSession(okx([{"ts": "1700000000000"}]), okx([{"totalEq": "1", "details": []}]))
    client = make_client(session, demo=True)
    client.get_server_time()
    client.get_balance()
    assert [r.headers.get("x-simulated-trading") for r in session.sent] == ["1", "1"]


def test_live_client_sends_no_simulated_trading_header() -> None:
    session = FakeSession(okx([{"ts": "1700000000000"}]), okx([{"totalEq": "1", "details": []}]))
    client = make_client(session, demo=False)
    client.get_server_time()
    client.get_balance()
    assert all("x-simulated-trading" not in r.headers for r in session.sent)


def test_public_requests_carry_no_credentials() -> None:
    session = FakeSession(okx([{"ts": "1700000000000"}]))
    make_client(session).get_server_time()
    assert not [h for h in session.sent[0].headers if h.upper().startswith("OK-ACCESS")]


def test_get_query_is_signed_exactly_as_sent() -> None:
    session = FakeSession(okx([]))
    make_client(session).list_fills("ETH-USDT-SWAP", after="680800019754098688", limit=50)
    sent = session.sent[0]
    assert (
        sent.path_url
        == "/api/v5/trade/fills?instType=SWAP&instId=ETH-USDT-SWAP&after=680800019754098688&limit=50"
    )
    assert sent.body is None
    h = sent.headers
    assert h["OK-ACCESS-KEY"] == API_KEY and h["OK-ACCESS-PASSPHRASE"] == PASSPHRASE
    assert h["OK-ACCESS-TIMESTAMP"] == iso_timestamp(int(T0 * 1000))
    assert h["OK-ACCESS-SIGN"] == sign(SECRET, h["OK-ACCESS-TIMESTAMP"] + "GET" + sent.path_url)


def test_post_body_sent_is_byte_for_byte_the_body_signed() -> None:
    session = FakeSession(okx([ACK]))
    make_client(session, armed=True).place_order(
        "ETH-USDT-SWAP",
        side="buy",
        ord_type="post_only",
        sz=Decimal("0.33"),
        px=Decimal("2991.00"),
        pos_side="long",
        client_order_id="ertw1r1a0",
    )
    sent = session.sent[0]
    assert isinstance(sent.body, bytes)
    body = sent.body.decode()
    assert body == (
        '{"instId":"ETH-USDT-SWAP","tdMode":"isolated","clOrdId":"ertw1r1a0","side":"buy",'
        '"posSide":"long","ordType":"post_only","px":"2991.00","sz":"0.33"}'
    )
    assert sent.headers["Content-Type"] == "application/json"
    h = sent.headers
    assert h["OK-ACCESS-SIGN"] == sign(SECRET, h["OK-ACCESS-TIMESTAMP"] + "POST/api/v5/trade/order" + body)


def _verifying_server(req: Received) -> tuple[int, bytes]:
    """Verify the signature as OKX does: over the raw path and body bytes received."""
    h = {k.lower(): v for k, v in req.headers.items()}
    expected = sign(SECRET, h.get("ok-access-timestamp", "") + req.method + req.path + req.body.decode())
    if h.get("ok-access-sign") != expected or h.get("ok-access-passphrase") != PASSPHRASE:
        return 401, b'{"msg":"Invalid Sign","code":"50113"}'
    if req.method == "POST":
        return 200, json.dumps({"code": "0", "msg": "", "data": [ACK]}).encode()
    return 200, json.dumps({"code": "0", "msg": "", "data": [order_obj()]}).encode()


def test_loopback_server_verifies_our_signature_over_the_raw_bytes() -> None:
    with loopback_server(_verifying_server) as (base_url, received):
        client = make_client(None, armed=True, base_url=base_url)
        client.get_order("ETH-USDT-SWAP", client_order_id="ertw1700000000000r1a0")
        ack = client.place_order(
            "ETH-USDT-SWAP",
            side="buy",
            ord_type="limit",
            sz=Decimal("1"),
            px=Decimal("2500.5"),
            pos_side="long",
            client_order_id="ertw1r1a0",
        )
        client.close()
    assert ack.ok
    assert [r.method for r in received] == ["GET", "POST"]
    assert received[0].path == "/api/v5/trade/order?instId=ETH-USDT-SWAP&clOrdId=ertw1700000000000r1a0"


def test_timestamp_uses_the_measured_server_offset() -> None:
    clock = FakeClock()
    session = FakeSession(okx([{"ts": str(int(T0 * 1000) + 5000)}]), okx([]))
    client = make_client(session, clock=clock)
    assert client.sync_time() == 5000
    assert client.now_ms() == int(T0 * 1000) + 5000
    client.list_fills("ETH-USDT-SWAP")
    assert session.sent[1].headers["OK-ACCESS-TIMESTAMP"] == iso_timestamp(int(T0 * 1000) + 5000)


EXPIRED = raw(401, {"code": "50102", "data": [], "msg": "Timestamp request expired"})


def test_expired_timestamp_resyncs_clock_and_resends_a_post_once() -> None:
    server_ms = int(T0 * 1000) + 45_000
    session = FakeSession(EXPIRED, okx([{"ts": str(server_ms)}]), okx([ACK]))
    ack = make_client(session, armed=True).cancel_order("ETH-USDT-SWAP", client_order_id="ertw1r1a0")
    assert ack.ok
    assert [r.method for r in session.sent] == ["POST", "GET", "POST"]
    assert session.body(0) == session.body(2)
    assert session.sent[2].headers["OK-ACCESS-TIMESTAMP"] == iso_timestamp(server_ms)


def test_a_second_expired_timestamp_is_raised_not_retried_again() -> None:
    session = FakeSession(
        EXPIRED,
        okx([{"ts": "1700000000000"}]),
        raw(401, {"msg": "Timestamp request expired", "code": "50102"}),
    )
    with pytest.raises(OkxTimestampError) as info:
        make_client(session, armed=True).cancel_order("ETH-USDT-SWAP", ord_id="1")
    assert info.value.code == "50102" and info.value.http_status == 401
    assert [r.method for r in session.sent] == ["POST", "GET", "POST"]
