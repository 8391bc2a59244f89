"""python-okx (the official SDK), unchanged: `domain` points at the simulator, `flag="1"` is demo trading."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from okx import Account, MarketData, PublicData, Trade

from exchange.sim import Simulator
from tests.interop.conftest import INST_ID, below_market

pytestmark = [
    pytest.mark.interop,
    # python-okx posts its body with httpx's data=, which httpx deprecates; not ours to change.
    pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning"),
]


def _options(sim: Simulator) -> dict[str, Any]:
    return {"flag": "1", "domain": sim.base_url, "debug": False}


def _trade(sim: Simulator) -> Any:
    return Trade.TradeAPI(sim.api_key, sim.secret_key, sim.passphrase, **_options(sim))


def _account(sim: Simulator, secret_key: str | None = None) -> Any:
    return Account.AccountAPI(sim.api_key, secret_key or sim.secret_key, sim.passphrase, **_options(sim))


def _post_only_buy(px: Decimal, client_order_id: str) -> dict[str, str]:
    return {
        "instId": INST_ID,
        "tdMode": "isolated",
        "side": "buy",
        "posSide": "long",
        "ordType": "post_only",
        "sz": "1",
        "px": str(px),
        "clOrdId": client_order_id,
    }


def test_public_reads_time_instruments_candles_ticker(sim: Simulator) -> None:
    public, market = PublicData.PublicAPI(**_options(sim)), MarketData.MarketAPI(**_options(sim))
    before = sim.now_ms()
    ts = int(public.get_system_time()["data"][0]["ts"])
    assert before <= ts <= sim.now_ms()
    instruments = public.get_instruments(instType="SWAP")["data"]
    assert {i["instId"]: i["ctVal"] for i in instruments} == {"ETH-USDT-SWAP": "0.1", "BTC-USDT-SWAP": "0.01"}
    rows = market.get_candlesticks(instId=INST_ID, bar="15m", limit="3")["data"]
    assert len(rows) == 3
    assert int(rows[0][0]) > int(rows[1][0]) > int(rows[2][0])
    sim.set_price("3001.5")
    last = Decimal(market.get_ticker(instId=INST_ID)["data"][0]["last"])
    assert last == Decimal("3001.5")


def test_balance(sim: Simulator) -> None:
    answer = _account(sim).get_account_balance(ccy="USDT")
    assert answer["code"] == "0"
    assert [(d["ccy"], Decimal(d["availBal"])) for d in answer["data"][0]["details"]] == [
        ("USDT", Decimal(100000))
    ]


def test_post_only_buy_rests_is_found_by_both_ids_and_cancels(sim: Simulator) -> None:
    trade, px = _trade(sim), below_market(sim)
    placed = trade.place_order(**_post_only_buy(px, "okxsdk1"))
    assert (placed["code"], placed["data"][0]["sCode"]) == ("0", "0")
    ord_id = placed["data"][0]["ordId"]
    pending = trade.get_order_list(instType="SWAP", instId=INST_ID)["data"]
    assert [o["ordId"] for o in pending] == [ord_id]
    by_id = trade.get_order(instId=INST_ID, ordId=ord_id)["data"][0]
    by_cl_id = trade.get_order(instId=INST_ID, clOrdId="okxsdk1")["data"][0]
    assert by_id == by_cl_id
    assert (by_id["state"], Decimal(by_id["px"]), by_id["tdMode"], by_id["posSide"]) == (
        "live",
        px,
        "isolated",
        "long",
    )
    canceled = trade.cancel_order(instId=INST_ID, ordId=ord_id)
    assert (canceled["code"], canceled["data"][0]["sCode"]) == ("0", "0")
    assert trade.get_order(instId=INST_ID, ordId=ord_id)["data"][0]["state"] == "canceled"
    assert trade.get_order_list(instType="SWAP")["data"] == []


def test_batch_of_orders(sim: Simulator) -> None:
    trade = _trade(sim)
    orders = [_post_only_buy(below_market(sim, f"0.9{i}"), f"okxbatch{i}") for i in range(3)]
    answer = trade.place_multiple_orders(orders)
    assert answer["code"] == "0"
    assert [a["sCode"] for a in answer["data"]] == ["0", "0", "0"]
    pending = trade.get_order_list(instId=INST_ID)["data"]
    assert sorted(o["clOrdId"] for o in pending) == ["okxbatch0", "okxbatch1", "okxbatch2"]


def test_a_fill_shows_in_fills_and_positions(sim: Simulator) -> None:
    trade, px = _trade(sim), below_market(sim)
    ord_id = trade.place_order(**_post_only_buy(px, "okxfill1"))["data"][0]["ordId"]
    sim.set_price(px - Decimal("0.5"))  # each step fills at most half the order
    sim.set_price(px - Decimal("1"))
    assert trade.get_order(instId=INST_ID, ordId=ord_id)["data"][0]["state"] == "filled"
    fills = trade.get_fills(instType="SWAP", instId=INST_ID)["data"]
    assert {(f["ordId"], Decimal(f["fillPx"]), f["side"], f["posSide"], f["execType"]) for f in fills} == {
        (ord_id, px, "buy", "long", "M")
    }
    assert sum(Decimal(f["fillSz"]) for f in fills) == 1
    positions = _account(sim).get_positions(instType="SWAP", instId=INST_ID)["data"]
    assert [(p["posSide"], p["mgnMode"], Decimal(p["pos"])) for p in positions] == [
        ("long", "isolated", Decimal(1))
    ]


def test_a_wrong_secret_is_refused_with_50113(sim: Simulator) -> None:
    assert _account(sim, secret_key="0" * 32).get_account_balance()["code"] == "50113"


def test_an_algo_stop_is_placed_listed_amended_read_and_cancelled(sim: Simulator) -> None:
    trade = _trade(sim)
    trade.place_order(instId=INST_ID, tdMode="isolated", side="buy", posSide="long", ordType="market", sz="1")
    stop_px = below_market(sim, "0.9")
    placed = trade.place_algo_order(
        instId=INST_ID,
        tdMode="isolated",
        side="sell",
        posSide="long",
        ordType="conditional",
        sz="1",
        slTriggerPx=str(stop_px),
        slOrdPx="-1",
        slTriggerPxType="mark",
        algoClOrdId="okxstop1",
    )
    assert (placed["code"], placed["data"][0]["sCode"], placed["data"][0]["algoClOrdId"]) == (
        "0",
        "0",
        "okxstop1",
    )
    algo_id = placed["data"][0]["algoId"]
    assert [a["algoId"] for a in trade.order_algos_list(ordType="conditional")["data"]] == [algo_id]
    amended = trade.amend_algo_order(instId=INST_ID, algoId=algo_id, newSz="0.5", reqId="okxamend1")
    assert (amended["code"], amended["data"][0]["reqId"]) == ("0", "okxamend1")
    details = trade.get_algo_order_details(algoClOrdId="okxstop1")["data"][0]
    assert (details["sz"], details["slTriggerPxType"], details["state"]) == ("0.5", "mark", "live")
    canceled = trade.cancel_algo_order([{"instId": INST_ID, "algoId": algo_id}])
    assert (canceled["code"], canceled["data"][0]["sCode"]) == ("0", "0")
    history = trade.order_algos_history(ordType="conditional", state="canceled")["data"]
    assert [(a["algoId"], a["state"]) for a in history] == [(algo_id, "canceled")]
