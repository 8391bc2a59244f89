"""The `orders-algo` channel on the simulator's business WebSocket path, spoken to raw."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import ClientConnection, connect

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx
from tests.exchange.sim.test_ws_channel import CEILING_S, ORDERS, ask, login_args, subscribed

ALGOS = {"channel": "orders-algo", "instType": "SWAP"}


@contextmanager
def business(sim: Simulator, *args: dict[str, str]) -> Iterator[ClientConnection]:
    with connect(sim.business_ws_url, open_timeout=2, ping_interval=None) as conn:
        assert ask(conn, {"op": "login", "args": [login_args(sim)]})["event"] == "login"
        assert ask(conn, {"op": "subscribe", "args": list(args) or [ALGOS]})["event"] == "subscribe"
        yield conn


def _push(conn: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(conn.recv(timeout=2))
    return message


def test_nothing_is_pushed_on_subscribe_then_every_change_is(sim: Simulator, okx: RawOkx) -> None:
    okx.place(side="buy", posSide="long", ordType="market", sz="1")
    before = okx.place_algo(sz="1", slTriggerPx="2800")["data"][0]["algoId"]
    with business(sim) as conn:
        algo_id = okx.place_algo(sz="1", slTriggerPx="2900", algoClOrdId="wsAlgo")["data"][0]["algoId"]
        placed = _push(conn)
        uid = okx.get("/api/v5/account/config")["data"][0]["uid"]
        assert placed["arg"] == {**ALGOS, "uid": uid}
        (live,) = placed["data"]
        assert (live["algoId"], live["state"], live["reqId"], live["amendResult"]) == (
            algo_id,
            "live",
            "",
            "",
        )
        okx.post(
            "/api/v5/trade/amend-algos",
            {"instId": "ETH-USDT-SWAP", "algoId": algo_id, "newSz": "0.5", "reqId": "wsAmend"},
        )
        amended = _push(conn)["data"][0]
        assert (amended["sz"], amended["reqId"], amended["amendResult"]) == ("0.5", "wsAmend", "0")
        sim.set_price("2899")  # fires it (not the one placed before the subscription: at 2800)
        fired = _push(conn)["data"][0]
        assert (fired["algoId"], fired["state"], len(fired["ordIdList"])) == (algo_id, "effective", 1)
        assert before != algo_id
    assert sim.set_ws_faults({})["algos_pushed"] == 3


def test_a_subscription_to_one_instrument_hears_only_its_algos(sim: Simulator, okx: RawOkx) -> None:
    with business(sim, {**ALGOS, "instId": "BTC-USDT-SWAP"}) as conn:
        okx.place_algo(sz="1", slTriggerPx="2900")
        btc = okx.place_algo(instId="BTC-USDT-SWAP", sz="1", slTriggerPx="80000")["data"][0]["algoId"]
        push = _push(conn)
        assert push["arg"]["instId"] == "BTC-USDT-SWAP"
        assert push["data"][0]["algoId"] == btc


@pytest.mark.parametrize(
    ("path", "channel"),
    [("business", "orders"), ("business", "positions"), ("private", "orders-algo")],
)
def test_a_channel_on_the_wrong_path_is_60018(sim: Simulator, path: str, channel: str) -> None:
    url = sim.business_ws_url if path == "business" else sim.ws_url
    with connect(url, open_timeout=2) as conn:
        assert ask(conn, {"op": "login", "args": [login_args(sim)]})["event"] == "login"
        answer = ask(conn, {"op": "subscribe", "args": [{"channel": channel, "instType": "SWAP"}]})
        assert (answer["event"], answer["code"]) == ("error", "60018")


def test_a_drop_of_one_path_cuts_only_its_connections(sim: Simulator) -> None:
    """{"drop": "/ws/v5/business"} cuts the business connections and leaves the private ones up."""
    with business(sim) as algos, subscribed(sim) as orders:
        assert sim.set_ws_faults({"drop": "/ws/v5/business"})["drops"] == 1
        with pytest.raises(ConnectionClosedError):
            algos.recv(timeout=CEILING_S)
        assert ask(orders, {"op": "subscribe", "args": [ORDERS]})["event"] == "subscribe"  # still up
    with pytest.raises(ValueError, match="drop must be"):
        sim.set_ws_faults({"drop": "/ws/v5/public"})
