"""Account modes as OKX has them: posMode, tdMode per account level, reduceOnly, leverage and margin."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

ETH = "ETH-USDT-SWAP"


def _ack(envelope: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = envelope["data"][0]
    return item


def _sent(okx: RawOkx, **fields: str) -> str:
    ack = _ack(okx.place(**fields))
    assert ack["sCode"] == "0", ack
    ord_id: str = ack["ordId"]
    return ord_id


def _positions(okx: RawOkx) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = okx.get("/api/v5/account/positions")["data"]
    return rows


def _config(okx: RawOkx) -> dict[str, Any]:
    config: dict[str, Any] = okx.get("/api/v5/account/config")["data"][0]
    return config


def _net(okx: RawOkx) -> None:
    assert okx.post("/api/v5/account/set-position-mode", {"posMode": "net_mode"}) == {
        "code": "0",
        "data": [{"posMode": "net_mode"}],
        "msg": "",
    }


# -- position mode -----------------------------------------------------------------------------------


def test_the_account_starts_in_long_short_mode_at_futures_level(okx: RawOkx) -> None:
    config = _config(okx)
    assert (config["posMode"], config["acctLv"]) == ("long_short_mode", "2")


def test_position_mode_changes_only_while_no_position_and_no_pending_order(
    sim: Simulator, okx: RawOkx
) -> None:
    ord_id = _sent(okx, side="buy", posSide="long", ordType="post_only", px="2990", sz="1")
    refused = okx.post("/api/v5/account/set-position-mode", {"posMode": "net_mode"})
    assert (refused["code"], refused["data"]) == ("59000", [])
    okx.post("/api/v5/trade/cancel-order", {"instId": ETH, "ordId": ord_id})
    _sent(okx, side="buy", posSide="long", ordType="market", sz="1")
    assert okx.post("/api/v5/account/set-position-mode", {"posMode": "net_mode"})["code"] == "59000"
    sim.user_close(ETH, "long")
    _net(okx)
    assert _config(okx)["posMode"] == "net_mode"
    bad = okx.send("POST", "/api/v5/account/set-position-mode", '{"posMode":"hedge"}')
    assert (bad.status_code, bad.json()["code"]) == (400, "51000")


def test_long_short_mode_requires_long_or_short(okx: RawOkx) -> None:
    for fields in ({}, {"posSide": "net"}):
        ack = _ack(okx.place(side="buy", ordType="market", sz="1", **fields))
        assert (ack["sCode"], ack["sMsg"]) == ("51000", "Parameter posSide error")


def test_net_mode_takes_net_or_no_pos_side_and_refuses_long(okx: RawOkx) -> None:
    _net(okx)
    _sent(okx, side="buy", ordType="market", sz="1")
    _sent(okx, side="buy", posSide="net", ordType="market", sz="1")
    ack = _ack(okx.place(side="buy", posSide="long", ordType="market", sz="1"))
    assert (ack["sCode"], ack["sMsg"]) == ("51000", "Parameter posSide error")
    [position] = _positions(okx)
    assert (position["posSide"], position["pos"], position["mgnMode"]) == ("net", "2", "isolated")


def test_a_net_position_is_signed_and_an_opposite_order_reduces_then_flips_it(
    sim: Simulator, okx: RawOkx
) -> None:
    _net(okx)
    _sent(okx, side="buy", ordType="market", sz="2")
    sim.set_price("3010")
    sell = _sent(okx, side="sell", ordType="market", sz="3")
    [position] = _positions(okx)
    assert (position["posSide"], position["pos"], position["avgPx"]) == ("net", "-1", "3010")
    order = okx.order(sell)
    assert (order["posSide"], order["reduceOnly"], order["pnl"]) == (
        "net",
        "false",
        "2",
    )  # 2 contracts x 0.1 x 10
    fills = okx.get(f"/api/v5/trade/fills?ordId={sell}")["data"]
    assert [(f["posSide"], f["side"], f["subType"]) for f in fills] == [("net", "sell", "2")]
    sim.set_price("3000")
    _sent(okx, side="buy", ordType="market", sz="1")
    assert _positions(okx) == []


# -- reduceOnly --------------------------------------------------------------------------------------


def test_reduce_only_in_net_mode_needs_an_opposite_position_no_larger_than_it(okx: RawOkx) -> None:
    _net(okx)
    no_position = _ack(okx.place(side="sell", ordType="market", sz="1", reduceOnly=True))  # type: ignore[arg-type]
    assert no_position["sCode"] == "51169"
    _sent(okx, side="buy", ordType="market", sz="2")
    same_way = _ack(okx.place(side="buy", ordType="market", sz="1", reduceOnly=True))  # type: ignore[arg-type]
    assert same_way["sCode"] == "51170"
    too_big = _ack(okx.place(side="sell", ordType="market", sz="3", reduceOnly=True))  # type: ignore[arg-type]
    assert too_big["sCode"] == "51112"  # rejected whole, never trimmed
    resting = _sent(okx, side="sell", ordType="limit", px="3100", sz="1.5", reduceOnly="true")
    assert okx.order(resting)["reduceOnly"] == "true"
    over_resting = _ack(okx.place(side="sell", ordType="market", sz="1", reduceOnly=True))  # type: ignore[arg-type]
    assert over_resting["sCode"] == "51112"  # 2 held, 1.5 already resting reduce-only
    _sent(okx, side="sell", ordType="market", sz="0.5", reduceOnly=True)  # type: ignore[arg-type]
    assert _positions(okx)[0]["pos"] == "1.5"


@pytest.mark.parametrize("code", ["51112", "51134", "51148"])
def test_the_oversize_reduce_only_code_is_a_quirk(sim: Simulator, okx: RawOkx, code: str) -> None:
    sim.set_quirks({"reduce_only_oversize_code": code})
    _sent(okx, side="buy", posSide="long", ordType="market", sz="1")
    assert _ack(okx.place(side="sell", posSide="long", ordType="market", sz="2"))["sCode"] == code


def test_reduce_only_as_a_string_is_accepted_unless_the_quirk_says_booleans_only(
    sim: Simulator, okx: RawOkx
) -> None:
    _net(okx)
    _sent(okx, side="buy", ordType="market", sz="1", reduceOnly="false")
    sim.set_quirks({"boolean_strings": False})
    response = okx.send(
        "POST",
        "/api/v5/trade/order",
        '{"instId":"ETH-USDT-SWAP","tdMode":"isolated","side":"buy","ordType":"market","sz":"1","reduceOnly":"false"}',
    )
    assert (response.status_code, response.json()["msg"]) == (400, "Parameter reduceOnly error")
    _sent(okx, side="buy", ordType="market", sz="1", reduceOnly=False)  # type: ignore[arg-type]


def test_a_resting_close_whose_position_was_closed_by_hand_is_canceled_not_reversed(
    sim: Simulator, okx: RawOkx
) -> None:
    _sent(okx, side="buy", posSide="long", ordType="market", sz="1")
    close = _sent(okx, side="sell", posSide="long", ordType="limit", px="3050", sz="1")
    sim.user_close(ETH, "long")  # cancels the pending close orders first, as OKX does (cancelSource 17)
    assert (okx.order(close)["state"], okx.order(close)["cancelSource"]) == ("canceled", "17")
    assert _positions(okx) == []


# -- margin modes and account levels ----------------------------------------------------------------


def test_cross_and_isolated_positions_are_apart_and_cross_holds_imr_not_margin(okx: RawOkx) -> None:
    _sent(okx, side="buy", posSide="long", ordType="market", sz="1", tdMode="cross")
    _sent(okx, side="buy", posSide="long", ordType="market", sz="2", tdMode="isolated")
    by_mode = {p["mgnMode"]: p for p in _positions(okx)}
    assert (by_mode["cross"]["pos"], by_mode["isolated"]["pos"]) == ("1", "2")
    assert (by_mode["cross"]["margin"], by_mode["cross"]["imr"]) == ("", "30")  # 3000 x 0.1 / 10
    assert (by_mode["isolated"]["margin"], by_mode["isolated"]["imr"]) == ("60", "")
    wrong_mode = _ack(okx.place(side="sell", posSide="long", ordType="market", sz="2", tdMode="cross"))
    assert wrong_mode["sCode"] == "51112"  # only 1 is held cross
    balance = okx.get("/api/v5/account/balance")["data"][0]
    assert (balance["imr"], balance["details"][0]["frozenBal"]) == ("30", "90")


def test_cash_td_mode_is_not_for_swap(okx: RawOkx) -> None:
    ack = _ack(okx.place(side="buy", posSide="long", ordType="market", sz="1", tdMode="cash"))
    assert (ack["sCode"], ack["sMsg"]) == ("51000", "Parameter tdMode error")


@pytest.mark.parametrize(
    ("acct_lv", "isolated", "cross"),
    [("1", "51010", "51010"), ("2", "0", "0"), ("3", "50072", "0"), ("4", "50072", "0")],
)
def test_what_each_account_level_lets_a_swap_order_use(
    sim: Simulator, okx: RawOkx, acct_lv: str, isolated: str, cross: str
) -> None:
    assert okx.post("/api/v5/account/set-account-level", {"acctLv": acct_lv})["code"] == "0"
    side = {} if _config(okx)["posMode"] == "net_mode" else {"posSide": "long"}
    results = [
        _ack(okx.place(side="buy", ordType="post_only", px="2990", sz="1", tdMode=mode, **side))["sCode"]
        for mode in ("isolated", "cross")
    ]
    assert results == [isolated, cross]


def test_portfolio_margin_trades_net_mode_only(okx: RawOkx) -> None:
    okx.post("/api/v5/account/set-account-level", {"acctLv": "4"})
    assert (_config(okx)["acctLv"], _config(okx)["posMode"]) == ("4", "net_mode")
    assert okx.post("/api/v5/account/set-position-mode", {"posMode": "long_short_mode"})["code"] == "51041"


def test_isolated_swap_in_futures_mode_is_a_quirk(sim: Simulator, okx: RawOkx) -> None:
    sim.set_quirks({"isolated_swap_in_futures_mode": False})
    assert _ack(okx.place(side="buy", posSide="long", ordType="market", sz="1"))["sCode"] == "51010"
    _sent(okx, side="buy", posSide="long", ordType="market", sz="1", tdMode="cross")


def test_the_admin_account_route_switches_modes_as_the_app_would(sim: Simulator, okx: RawOkx) -> None:
    changed = okx.admin("POST", "/sim/account", {"acctLv": "3", "posMode": "net_mode"})
    assert (changed.status_code, changed.json()["acctLv"], changed.json()["posMode"]) == (
        200,
        "3",
        "net_mode",
    )
    _sent(okx, side="buy", ordType="market", sz="1", tdMode="cross")
    refused = okx.admin("POST", "/sim/account", {"posMode": "long_short_mode"})
    assert refused.status_code == 400 and refused.json()["error"].startswith("59000 ")
    assert okx.admin("POST", "/sim/account", {"acctLv": "9"}).status_code == 400


# -- leverage -------------------------------------------------------------------------------------------


def test_leverage_info_is_per_side_for_isolated_long_short_and_per_instrument_otherwise(okx: RawOkx) -> None:
    isolated = okx.get(f"/api/v5/account/leverage-info?instId={ETH}&mgnMode=isolated")["data"]
    assert [(r["posSide"], r["lever"]) for r in isolated] == [("long", "10"), ("short", "10")]
    cross = okx.get(f"/api/v5/account/leverage-info?instId={ETH},BTC-USDT-SWAP&mgnMode=cross")["data"]
    assert [(r["instId"], r["posSide"]) for r in cross] == [(ETH, "net"), ("BTC-USDT-SWAP", "net")]
    missing = okx.send("GET", f"/api/v5/account/leverage-info?instId={ETH}")
    assert (missing.status_code, missing.json()["code"]) == (400, "51000")


def test_set_leverage_changes_the_margin_an_order_freezes(okx: RawOkx) -> None:
    body = {"instId": ETH, "lever": "5", "mgnMode": "isolated", "posSide": "long"}
    assert okx.post("/api/v5/account/set-leverage", body)["data"] == [
        {"instId": ETH, "lever": "5", "mgnMode": "isolated", "posSide": "long"}
    ]
    no_side = okx.send(
        "POST", "/api/v5/account/set-leverage", '{"instId":"ETH-USDT-SWAP","lever":"5","mgnMode":"isolated"}'
    )
    assert (no_side.status_code, no_side.json()["msg"]) == (400, "Parameter posSide error")
    lever = okx.get(f"/api/v5/account/leverage-info?instId={ETH}&mgnMode=isolated")["data"]
    assert [r["lever"] for r in lever] == ["5", "10"]
    ord_id = _sent(okx, side="buy", posSide="long", ordType="post_only", px="2000", sz="1")
    assert okx.order(ord_id)["lever"] == "5"
    assert okx.get("/api/v5/account/balance")["data"][0]["ordFroz"] == "40"  # 2000 x 0.1 / 5


def test_set_leverage_refusals(okx: RawOkx) -> None:
    too_high = {"instId": ETH, "lever": "101", "mgnMode": "cross"}
    assert okx.post("/api/v5/account/set-leverage", too_high)["code"] == "59102"
    _sent(okx, side="buy", posSide="long", ordType="post_only", px="2990", sz="1")
    isolated = {"instId": ETH, "lever": "20", "mgnMode": "isolated", "posSide": "long"}
    assert okx.post("/api/v5/account/set-leverage", isolated)["code"] == "59101"
    _sent(okx, side="buy", posSide="long", ordType="post_only", px="2990", sz="1", tdMode="cross")
    assert okx.post("/api/v5/account/set-leverage", {**too_high, "lever": "20"})["code"] == "59107"


def test_margin_is_checked_against_the_leverage_and_positions_are_re_margined() -> None:
    with Simulator(seed=7, volatility="0", balance="100") as sim:
        okx = RawOkx(sim)
        big = {"side": "buy", "posSide": "long", "ordType": "market", "sz": "4"}  # 1200 USDT notional
        assert _ack(okx.place(**big))["sCode"] == "51008"  # 120 margin at 10x > 100
        okx.post(
            "/api/v5/account/set-leverage",
            {"instId": ETH, "lever": "20", "mgnMode": "isolated", "posSide": "long"},
        )
        _sent(okx, **big)
        assert Decimal(_positions(okx)[0]["margin"]) == Decimal(60)
        lower = {"instId": ETH, "lever": "5", "mgnMode": "isolated", "posSide": "long"}
        assert okx.post("/api/v5/account/set-leverage", lower)["code"] == "59108"  # would need 240
        okx.post("/api/v5/account/set-leverage", {**lower, "lever": "15"})
        position = _positions(okx)[0]
        assert (position["lever"], position["margin"]) == ("15", "80")


def test_close_position_follows_the_position_mode(okx: RawOkx) -> None:
    _sent(okx, side="buy", posSide="long", ordType="market", sz="1")
    response = okx.send(
        "POST", "/api/v5/trade/close-position", '{"instId":"ETH-USDT-SWAP","mgnMode":"isolated"}'
    )
    assert (response.status_code, response.json()["msg"]) == (400, "Parameter posSide error")
    assert (
        okx.post("/api/v5/trade/close-position", {"instId": ETH, "mgnMode": "isolated", "posSide": "long"})[
            "code"
        ]
        == "0"
    )
    _net(okx)
    _sent(okx, side="sell", ordType="market", sz="2", tdMode="cross")
    closed = okx.post("/api/v5/trade/close-position", {"instId": ETH, "mgnMode": "cross"})
    assert (closed["code"], closed["data"][0]["posSide"]) == ("0", "net")
    assert _positions(okx) == []
    assert okx.post("/api/v5/trade/close-position", {"instId": ETH, "mgnMode": "cross"})["code"] == "51023"
