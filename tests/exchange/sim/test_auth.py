"""Authentication as OKX does it: codes, HTTP statuses, and a signature over the exact bytes sent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.sim import Simulator
from tests.exchange.sim.host_time import HostTime
from tests.exchange.sim.okx_http import TIMEOUT_S, RawOkx, iso_ms, sign

BALANCE = "/api/v5/account/balance"
DOC_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"


def test_signing_helper_matches_the_worked_vectors() -> None:
    assert (
        sign(DOC_SECRET, "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC")
        == "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
    )
    body = '{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}'
    assert (
        sign(DOC_SECRET, "2020-12-08T09:08:57.715ZPOST/api/v5/account/set-leverage" + body)
        == "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8="
    )


def test_docs_example_signature_is_accepted_at_its_own_time() -> None:
    start = 1607418537715  # 2020-12-08T09:08:57.715Z
    with Simulator(api_key="doc-key", secret_key=DOC_SECRET, passphrase="doc-pass", start_ms=start) as sim:
        okx = RawOkx(sim)
        response = okx.send(
            "GET",
            "/api/v5/account/balance?ccy=BTC",
            timestamp="2020-12-08T09:08:57.715Z",
            **{"OK-ACCESS-SIGN": "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="},
        )
        assert response.status_code == 200
        assert response.json()["code"] == "0"


def test_a_correctly_signed_request_succeeds(okx: RawOkx) -> None:
    response = okx.send("GET", BALANCE)
    assert response.status_code == 200
    assert response.json()["code"] == "0"


def _refusal(okx: RawOkx, **overrides: Any) -> tuple[int, dict[str, Any]]:
    response = okx.send("GET", BALANCE, **overrides)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"OK-ACCESS-KEY": None}, "50103"),
        ({"OK-ACCESS-KEY": ""}, "50103"),
        ({"OK-ACCESS-PASSPHRASE": None}, "50104"),
        ({"OK-ACCESS-SIGN": None}, "50106"),
        ({"OK-ACCESS-TIMESTAMP": None}, "50107"),
        ({"OK-ACCESS-KEY": "not-our-key"}, "50111"),
        ({"OK-ACCESS-PASSPHRASE": "wrong"}, "50105"),
        ({"x-simulated-trading": None}, "50101"),
        ({"x-simulated-trading": "0"}, "50101"),
        ({"x-simulated-trading": ""}, "50101"),
        ({"timestamp": "1767571200000"}, "50112"),
        ({"timestamp": "2026-13-05T00:00:00.000Z"}, "50112"),
        ({"timestamp": "2026-01-05 00:00:00.000"}, "50112"),
        ({"secret_key": "0" * 32}, "50113"),
    ],
)
def test_auth_failures_answer_okx_codes_with_http_401_and_no_data(
    okx: RawOkx, overrides: dict[str, Any], code: str
) -> None:
    status, body = _refusal(okx, **overrides)
    assert status == 401
    assert body["code"] == code
    assert "data" not in body
    if code == "50113":
        assert body == {"msg": "Invalid Sign", "code": "50113"}


def test_timestamp_is_judged_against_the_simulator_clock_within_30_seconds(
    sim: Simulator, okx: RawOkx
) -> None:
    now = sim.now_ms()
    for skew in (-30_000, 30_000, 0):
        assert _refusal(okx, timestamp=iso_ms(now + skew))[0] == 200
    for skew in (-30_001, 30_001):
        status, body = _refusal(okx, timestamp=iso_ms(now + skew))
        assert (status, body) == (401, {"msg": "Timestamp request expired", "code": "50102"})
    sim.advance(60)
    assert _refusal(okx, timestamp=iso_ms(now))[1]["code"] == "50102"


def test_a_timestamp_from_the_host_wall_clock_is_fresh_whatever_the_simulator_clock_shows(
    sim: Simulator, okx: RawOkx, host_time: HostTime
) -> None:
    """Third-party clients sign with their wall clock; an advanced sim clock must not lock them out.
    The host's clock is frozen, so the 30 s edge is judged exactly however slow the machine."""
    sim.advance(6 * 3600)
    wall = int(host_time.time() * 1000)
    assert abs(wall - sim.now_ms()) > 60_000
    for skew in (-29_000, 0, 29_000):
        assert _refusal(okx, timestamp=iso_ms(wall + skew))[0] == 200
    assert _refusal(okx, timestamp=iso_ms(wall - 31_000))[1]["code"] == "50102"
    assert _refusal(okx, timestamp=iso_ms(sim.now_ms()))[0] == 200  # the sim clock still counts too


def test_timestamp_fraction_may_have_other_precisions(sim: Simulator, okx: RawOkx) -> None:
    seconds = iso_ms(sim.now_ms())[:19]
    for stamp in (seconds + "Z", seconds + ".5Z", seconds + ".123456Z"):
        assert _refusal(okx, timestamp=stamp)[0] == 200


def test_exactly_three_fraction_digits_when_the_quirk_says_so(sim: Simulator, okx: RawOkx) -> None:
    sim.set_quirks({"timestamp_exact_ms": True})
    seconds = iso_ms(sim.now_ms())[:19]
    for stamp in (seconds + "Z", seconds + ".5Z", seconds + ".123456Z"):
        assert _refusal(okx, timestamp=stamp)[1] == {"msg": "Invalid OK-ACCESS-TIMESTAMP", "code": "50112"}
    assert _refusal(okx, timestamp=seconds + ".123Z")[0] == 200


def test_post_signed_with_spaced_separators_verifies(okx: RawOkx) -> None:
    body = json.dumps({"instId": "ETH-USDT-SWAP", "ordId": "1"})  # Python's default ", " and ": "
    assert ", " in body
    response = okx.send("POST", "/api/v5/trade/cancel-order", body)
    assert response.status_code == 200
    assert response.json()["data"][0]["sCode"] == "51400"


def test_query_with_raw_or_percent_encoded_commas_verifies(okx: RawOkx) -> None:
    for target in (
        "/api/v5/account/positions?instId=ETH-USDT-SWAP,BTC-USDT-SWAP",
        "/api/v5/account/positions?instId=ETH-USDT-SWAP%2CBTC-USDT-SWAP",
    ):
        response = okx.send("GET", target)
        assert response.status_code == 200, target
        assert response.json() == {"code": "0", "data": [], "msg": ""}


def test_signature_over_a_re_encoded_query_is_refused(okx: RawOkx) -> None:
    sent = "/api/v5/account/positions?instId=ETH-USDT-SWAP%2CBTC-USDT-SWAP"
    signed = "/api/v5/account/positions?instId=ETH-USDT-SWAP,BTC-USDT-SWAP"
    headers = okx.headers("GET", signed)
    response = okx.session.get(okx.sim.base_url + sent, headers=headers, timeout=TIMEOUT_S)
    assert response.status_code == 401
    assert response.json()["code"] == "50113"


def test_public_endpoints_need_no_signature(okx: RawOkx) -> None:
    response = okx.session.get(okx.sim.base_url + "/api/v5/public/time", timeout=TIMEOUT_S)
    assert response.status_code == 200
    assert response.json()["code"] == "0"


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


def test_any_body_verifies_byte_for_byte_and_any_change_is_refused() -> None:
    with Simulator(rate_limits=False, volatility="0") as sim:
        okx = RawOkx(sim)

        @settings(max_examples=60, deadline=None)
        @given(
            extra=st.dictionaries(st.text(min_size=1, max_size=6), _json_values, max_size=4),
            separators=st.sampled_from([(",", ":"), (", ", ": "), (" , ", " : ")]),
            tamper=st.booleans(),
        )
        def check(extra: dict[str, Any], separators: tuple[str, str], tamper: bool) -> None:
            body = json.dumps({**extra, "instId": "ETH-USDT-SWAP", "ordId": "1"}, separators=separators)
            headers = okx.headers("POST", "/api/v5/trade/cancel-order", body)
            sent = body.replace("}", " }", 1) if tamper else body
            response = okx.session.post(
                sim.base_url + "/api/v5/trade/cancel-order",
                data=sent.encode(),
                headers=headers,
                timeout=TIMEOUT_S,
            )
            if tamper:
                assert (response.status_code, response.json()["code"]) == (401, "50113")
            else:
                assert response.status_code == 200
                assert response.json()["data"][0]["sCode"] == "51400"

        check()
