"""Rendering without sending: clOrdIds, the post-only payload, the three-rung entry ladder."""

from __future__ import annotations

import socket
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from exchange import (
    OkxInvalidRequest,
    build_client_order_id,
    build_contract_size,
    order_body,
    render_eth_entry_batch_payloads,
    render_ladder_rung_payload,
    render_post_only_limit_order_payload,
)
from tests.exchange.okx_fakes import eth_instrument

SIGNAL_TS = 1_700_000_000_000


def test_client_order_id_is_deterministic_and_names_signal_rung_and_attempt() -> None:
    assert build_client_order_id("ertw", SIGNAL_TS, 1, 0) == "ertw1700000000000r1a0"
    assert build_client_order_id("ertw", SIGNAL_TS, 1, 0) == build_client_order_id("ertw", SIGNAL_TS, 1, 0)
    assert build_client_order_id("ertw", SIGNAL_TS, 3, 2) == "ertw1700000000000r3a2"


@given(
    prefix=st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,6}", fullmatch=True),
    ts=st.integers(min_value=0, max_value=9_999_999_999_999),
    rung=st.integers(min_value=0, max_value=99),
    attempt=st.integers(min_value=0, max_value=99),
)
def test_client_order_id_is_always_a_valid_okx_clordid(prefix: str, ts: int, rung: int, attempt: int) -> None:
    cl = build_client_order_id(prefix, ts, rung, attempt)
    assert cl[0].isalpha() and cl.isascii() and cl.isalnum() and len(cl) <= 32


@pytest.mark.parametrize(
    ("prefix", "ts", "rung", "attempt"),
    [
        ("1ertw", SIGNAL_TS, 1, 0),
        ("er-tw", SIGNAL_TS, 1, 0),
        ("", SIGNAL_TS, 1, 0),
        ("ertwé", SIGNAL_TS, 1, 0),
        ("averyveryverylongprefix", SIGNAL_TS, 1, 0),
        ("ertw", -1, 1, 0),
        ("ertw", SIGNAL_TS, -1, 0),
        ("ertw", SIGNAL_TS, 1, True),
    ],
)
def test_client_order_id_refuses_what_okx_would_refuse(prefix: str, ts: int, rung: int, attempt: int) -> None:
    with pytest.raises(ValueError):
        build_client_order_id(prefix, ts, rung, attempt)


def _post_only(**overrides: Any) -> dict[str, str]:
    args: dict[str, Any] = {
        "symbol": "ETH-USDT-SWAP",
        "side": "buy",
        "px": Decimal("2991.004"),
        "sz": Decimal("0.339"),
        "client_order_id": "ertw1700000000000r1a0",
        "instrument": eth_instrument(),
        **overrides,
    }
    return render_post_only_limit_order_payload(**args)


def test_post_only_payload_shape() -> None:
    assert _post_only() == {
        "instId": "ETH-USDT-SWAP",
        "tdMode": "isolated",
        "clOrdId": "ertw1700000000000r1a0",
        "side": "buy",
        "posSide": "long",
        "ordType": "post_only",
        "px": "2991.00",
        "sz": "0.33",
    }


def test_post_only_price_rounds_buys_down_and_sells_up() -> None:
    assert _post_only(px=Decimal("2991.009"))["px"] == "2991.00"
    assert _post_only(px=Decimal("2991.001"), side="sell", pos_side="short")["px"] == "2991.01"
    assert _post_only(px=Decimal("2991.01"), side="sell")["px"] == "2991.01"


def test_post_only_without_pos_side_is_for_net_mode() -> None:
    assert "posSide" not in _post_only(pos_side=None)


@pytest.mark.parametrize(
    "overrides",
    [
        {"sz": Decimal("0.009")},
        {"sz": Decimal("2000000")},
        {"symbol": "BTC-USDT-SWAP"},
        {"side": "long"},
        {"px": Decimal("0")},
        {"px": Decimal("0.001")},
        {"client_order_id": "has-hyphen"},
        {"instrument": eth_instrument(state="suspend")},
    ],
)
def test_post_only_refuses_what_would_be_rejected(overrides: dict[str, Any]) -> None:
    with pytest.raises(OkxInvalidRequest):
        _post_only(**overrides)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"pos_side": "sideways"}, "posSide must be long, short or net"),
        ({"td_mode": "margin"}, "tdMode must be"),
    ],
)
def test_an_order_body_refuses_a_pos_side_or_td_mode_okx_does_not_have(
    overrides: dict[str, Any], named: str
) -> None:
    with pytest.raises(OkxInvalidRequest, match=named):
        order_body("ETH-USDT-SWAP", side="buy", ord_type="market", sz=Decimal(1), **overrides)
    spot = order_body("BTC-USDT", side="buy", ord_type="market", sz=Decimal(1), td_mode="cash")
    assert spot["tdMode"] == "cash" and "posSide" not in spot  # spot's own mode, no posSide


def _ladder(**overrides: Any) -> list[dict[str, str]]:
    args: dict[str, Any] = {
        "reference_px": Decimal("3000"),
        "notional_per_rung": Decimal("1000"),
        "instrument": eth_instrument(),
        "signal_ts_ms": SIGNAL_TS,
        "prefix": "ertw",
        **overrides,
    }
    return render_eth_entry_batch_payloads(**args)


def test_entry_batch_is_exactly_three_post_only_long_buys_at_the_offsets() -> None:
    ladder = _ladder()
    assert len(ladder) == 3
    assert [p["px"] for p in ladder] == ["2991.00", "2982.00", "2973.00"]  # 3000 x (1 - 0.003/0.006/0.009)
    assert [p["clOrdId"] for p in ladder] == [f"ertw1700000000000r{i}a0" for i in (1, 2, 3)]
    for p in ladder:
        assert (p["instId"], p["tdMode"], p["side"], p["posSide"], p["ordType"]) == (
            "ETH-USDT-SWAP",
            "isolated",
            "buy",
            "long",
            "post_only",
        )


def test_entry_batch_sizes_each_rung_at_its_own_price() -> None:
    # 1000 / (px x 0.1): 3.3433 -> 3.34, 3.3534 -> 3.35, 3.3636 -> 3.36
    assert [p["sz"] for p in _ladder()] == ["3.34", "3.35", "3.36"]


def test_entry_batch_prices_round_down_to_the_tick() -> None:
    ladder = _ladder(reference_px=Decimal("3001.37"))
    # 3001.37 x 0.997 = 2992.36589 -> 2992.36 (down, never up, for a buy)
    assert ladder[0]["px"] == "2992.36"


def test_entry_batch_enforces_min_sz_for_every_rung() -> None:
    with pytest.raises(OkxInvalidRequest, match=r"^rung 1 \(offset 0.003\): .*below minSz"):
        _ladder(notional_per_rung=Decimal("2"))


@pytest.mark.parametrize(
    "offsets",
    [(Decimal("0.003"),), (Decimal("0.003"),) * 4, (Decimal("0.003"), Decimal("1"), Decimal("0.009"))],
)
def test_entry_batch_refuses_anything_but_three_sane_offsets(offsets: tuple[Decimal, ...]) -> None:
    with pytest.raises(OkxInvalidRequest):
        _ladder(offsets=offsets)


def test_entry_batch_attempt_changes_every_client_order_id() -> None:
    assert [p["clOrdId"][-2:] for p in _ladder(attempt=1)] == ["a1", "a1", "a1"]


@given(
    reference=st.decimals(min_value=Decimal("100"), max_value=Decimal("100000"), places=4),
    notional=st.decimals(min_value=Decimal("1000"), max_value=Decimal("100000"), places=2),
)
def test_entry_batch_numbers_sit_on_the_grid_and_never_use_an_exponent(
    reference: Decimal, notional: Decimal
) -> None:
    inst = eth_instrument()
    ladder = _ladder(reference_px=reference, notional_per_rung=notional)
    for payload, offset in zip(ladder, ("0.003", "0.006", "0.009"), strict=True):
        px, sz = Decimal(payload["px"]), Decimal(payload["sz"])
        assert "E" not in payload["px"] + payload["sz"]
        assert Fraction(px) % Fraction(inst.tickSz) == 0 and Fraction(sz) % Fraction(inst.lotSz) == 0
        assert Fraction(px) <= Fraction(reference) * (1 - Fraction(offset)) < Fraction(px) + Fraction("0.01")
        assert sz == build_contract_size(notional, px, inst)


def _rung(**overrides: Any) -> dict[str, str]:
    args: dict[str, Any] = {
        "reference_px": Decimal("3000"),
        "offset": Decimal("0.003"),
        "side": "sell",
        "instrument": eth_instrument(),
        "prefix": "ertw",
        "signal_ts_ms": SIGNAL_TS,
        "rung": 2,
        "pos_side": "short",
        **overrides,
    }
    return render_ladder_rung_payload(**args)


def test_a_sell_rung_rests_above_the_reference_rounded_up() -> None:
    payload = _rung(reference_px=Decimal("3001.37"), notional=Decimal("1000"))
    # 3001.37 x 1.003 = 3010.37411 -> 3010.38 (up, never down, for a sell)
    assert (payload["side"], payload["posSide"], payload["px"]) == ("sell", "short", "3010.38")
    assert payload["sz"] == "3.32"  # 1000 / (3010.38 x 0.1) = 3.3218 -> 3.32
    assert payload["clOrdId"] == "ertw1700000000000r2a0"


def test_an_explicit_rung_size_is_rounded_down_to_the_lot() -> None:
    assert _rung(sz=Decimal("0.509"))["sz"] == "0.50"
    assert _rung(sz=Decimal("0.5"), side="buy", pos_side="long")["px"] == "2991.00"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"sz": Decimal("0.009")}, r"^rung 2 \(offset 0.003\): ETH-USDT-SWAP: sz 0.009 rounds down to 0.00"),
        ({"notional": Decimal("2")}, r"^rung 2 \(offset 0.003\): .*below minSz 0.01"),
        ({"notional": Decimal("100"), "sz": Decimal("1")}, "rung 2 .*exactly one of notional and sz"),
        ({}, "rung 2 .*exactly one of notional and sz"),
        ({"sz": Decimal("1"), "side": "short"}, "rung 2: side must be buy or sell"),
        ({"sz": Decimal("1"), "offset": Decimal("1")}, r"rung 2: offset must be a Decimal in \[0, 1\)"),
    ],
)
def test_a_rung_that_cannot_be_placed_is_refused_naming_it(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(OkxInvalidRequest, match=problem):
        _rung(**overrides)


def test_a_tag_rides_on_the_rung_after_its_client_order_id() -> None:
    payload = _rung(sz=Decimal("1"), tag="caaLadder1")
    assert list(payload)[:5] == ["instId", "tdMode", "clOrdId", "tag", "side"]
    assert payload["tag"] == "caaLadder1"
    assert "tag" not in _rung(sz=Decimal("1"))  # untagged unless asked: the payloads stay as they were


def test_order_body_carries_a_tag() -> None:
    body = order_body("ETH-USDT-SWAP", side="sell", ord_type="market", sz=Decimal(1), tag="caa1")
    assert body["tag"] == "caa1"


@pytest.mark.parametrize("tag", ["", "caa_1", "caa-1", "a" * 17, "caa\u00e91"])
def test_a_tag_okx_would_refuse_is_refused(tag: str) -> None:
    with pytest.raises(OkxInvalidRequest, match="a tag is 1 to 16 letters/digits"):
        _rung(sz=Decimal("1"), tag=tag)
    with pytest.raises(OkxInvalidRequest, match="a tag is 1 to 16 letters/digits"):
        order_body("ETH-USDT-SWAP", side="sell", ord_type="market", sz=Decimal(1), tag=tag)


def test_render_functions_make_no_request(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def record_send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        calls.append(f"send {request.url}")
        raise AssertionError("a render function sent a request")

    def record_connect(self: socket.socket, address: Any) -> None:
        calls.append(f"connect {address}")
        raise AssertionError("a render function opened a connection")

    monkeypatch.setattr(requests.Session, "send", record_send)
    monkeypatch.setattr(socket.socket, "connect", record_connect)
    _ladder()
    _post_only()
    build_contract_size(Decimal("100"), Decimal("3000"), eth_instrument())
    build_client_order_id("ertw", SIGNAL_TS, 1, 0)
    assert calls == []
