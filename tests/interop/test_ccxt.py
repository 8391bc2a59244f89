"""ccxt's okx exchange, unchanged: sandbox mode (demo header), then the REST URL pointed at the simulator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from exchange.sim import Simulator
from tests.interop.conftest import below_market

pytestmark = pytest.mark.interop

SYMBOL = "ETH/USDT:USDT"
BAR_MS = 900_000


def _okx(sim: Simulator, secret_key: str | None = None) -> Any:
    exchange = ccxt.okx(
        {
            "apiKey": sim.api_key,
            "secret": secret_key or sim.secret_key,
            "password": sim.passphrase,
            "enableRateLimit": False,  # the simulator enforces OKX's limits itself; keeps the tests fast
            "options": {"defaultType": "swap", "defaultMarginMode": "isolated"},
        }
    )
    exchange.set_sandbox_mode(True)  # sends x-simulated-trading: 1; replaces urls["api"], so it goes first
    exchange.urls["api"]["rest"] = sim.base_url
    return exchange


def _post_only_buy(client_id: str) -> dict[str, Any]:
    return {"postOnly": True, "posSide": "long", "clientOrderId": client_id}


def test_public_reads_time_markets_candles_ticker(sim: Simulator) -> None:
    okx = _okx(sim)
    before = sim.now_ms()
    assert before <= okx.fetch_time() <= sim.now_ms()
    markets = okx.load_markets()
    assert sorted(markets) == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    eth = markets[SYMBOL]
    assert (eth["id"], eth["contractSize"], eth["settle"], eth["linear"]) == (
        "ETH-USDT-SWAP",
        0.1,
        "USDT",
        True,
    )
    latest = okx.fetch_ohlcv(SYMBOL, "15m", limit=3)
    assert len(latest) == 3
    assert latest[0][0] < latest[1][0] < latest[2][0]
    sim.set_price("2999.25")
    assert okx.fetch_ticker(SYMBOL)["last"] == 2999.25


def test_ohlcv_since_a_sim_time_in_the_past(sim: Simulator) -> None:
    """ccxt picks /market/history-candles when `since` is older than 1,439 bars of its own wall clock."""
    now = sim.now_ms()
    since = now - now % BAR_MS - 10 * BAR_MS
    rows = _okx(sim).fetch_ohlcv(SYMBOL, "15m", since=since, limit=5)
    assert [r[0] for r in rows] == [since + i * BAR_MS for i in range(5)]
    assert all(r[3] <= min(r[1], r[4]) <= max(r[1], r[4]) <= r[2] for r in rows)


def test_balance(sim: Simulator) -> None:
    usdt = _okx(sim).fetch_balance()["USDT"]
    assert (usdt["free"], usdt["used"], usdt["total"]) == (100000.0, 0.0, 100000.0)


def test_post_only_buy_rests_is_found_by_both_ids_and_cancels(sim: Simulator) -> None:
    okx, px = _okx(sim), below_market(sim)
    placed = okx.create_order(SYMBOL, "limit", "buy", 1, float(px), _post_only_buy("ccxt1"))
    assert [o["id"] for o in okx.fetch_open_orders(SYMBOL)] == [placed["id"]]
    by_id = okx.fetch_order(placed["id"], SYMBOL)
    by_client_id = okx.fetch_order(None, SYMBOL, {"clientOrderId": "ccxt1"})
    assert by_id["id"] == by_client_id["id"] == placed["id"]
    assert (by_id["status"], by_id["price"], by_id["amount"], by_id["postOnly"]) == (
        "open",
        float(px),
        1,
        True,
    )
    assert (by_id["info"]["tdMode"], by_id["info"]["posSide"]) == ("isolated", "long")
    okx.cancel_order(placed["id"], SYMBOL)
    assert okx.fetch_order(placed["id"], SYMBOL)["status"] == "canceled"
    assert okx.fetch_open_orders(SYMBOL) == []


def test_batch_of_orders_and_batch_cancel(sim: Simulator) -> None:
    okx = _okx(sim)
    requests = [
        {
            "symbol": SYMBOL,
            "type": "limit",
            "side": "buy",
            "amount": 1,
            "price": float(px),
            "params": _post_only_buy(f"ccxtbatch{i}"),
        }
        for i, px in enumerate(below_market(sim, f"0.9{i}") for i in range(3))
    ]
    placed = okx.create_orders(requests)
    ids = sorted(o["id"] for o in placed)
    assert len(set(ids)) == 3
    assert sorted(o["id"] for o in okx.fetch_open_orders(SYMBOL)) == ids
    okx.cancel_orders(ids, SYMBOL)
    assert okx.fetch_open_orders(SYMBOL) == []


def test_a_fill_shows_in_trades_and_positions(sim: Simulator) -> None:
    okx, px = _okx(sim), below_market(sim)
    placed = okx.create_order(SYMBOL, "limit", "buy", 1, float(px), _post_only_buy("ccxtfill1"))
    sim.set_price(px - Decimal("0.5"))  # each step fills at most half the order
    sim.set_price(px - Decimal("1"))
    assert okx.fetch_order(placed["id"], SYMBOL)["status"] == "closed"
    trades = okx.fetch_my_trades(SYMBOL)
    assert {(t["order"], t["price"], t["side"], t["takerOrMaker"]) for t in trades} == {
        (placed["id"], float(px), "buy", "maker")
    }
    assert sum(t["amount"] for t in trades) == 1
    positions = okx.fetch_positions([SYMBOL])
    assert [(p["side"], p["marginMode"], p["contracts"]) for p in positions] == [("long", "isolated", 1.0)]


def test_a_wrong_secret_is_an_authentication_error(sim: Simulator) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="50113"):
        _okx(sim, secret_key="0" * 32).fetch_balance()


def test_a_stop_loss_price_places_an_algo_that_is_listed_and_cancelled(sim: Simulator) -> None:
    okx = _okx(sim)
    okx.create_order(SYMBOL, "market", "buy", 1, None, {"posSide": "long"})
    stop_px = below_market(sim, "0.9")
    placed = okx.create_order(
        SYMBOL, "market", "sell", 1, None, {"stopLossPrice": float(stop_px), "posSide": "long"}
    )
    (algo,) = sim.state()["algos"]
    assert placed["id"] == algo["algoId"]
    assert (algo["ordType"], Decimal(algo["slTriggerPx"]), algo["slOrdPx"], algo["slTriggerPxType"]) == (
        "conditional",
        stop_px,
        "-1",
        "last",
    )
    assert (algo["side"], algo["posSide"], algo["tdMode"], algo["sz"], algo["state"]) == (
        "sell",
        "long",
        "isolated",
        "1",
        "live",
    )
    listed = okx.fetch_open_orders(SYMBOL, None, None, {"ordType": "conditional"})
    assert [o["id"] for o in listed] == [placed["id"]]
    assert okx.fetch_order(placed["id"], SYMBOL, {"trigger": True})["id"] == placed["id"]
    okx.cancel_order(placed["id"], SYMBOL, {"trigger": True})
    assert [a["state"] for a in sim.state()["algos"]] == ["canceled"]
    assert sim.state()["positions"][0]["pos"] == "1"
