"""The simulator's private WebSocket channel, spoken to raw: login, subscribe, pushes, ping, faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx, sign

ORDERS = {"channel": "orders", "instType": "SWAP"}
CEILING_S = 60.0  # how long an answer or a push may take on a busy machine; never a budget


def login_args(
    sim: Simulator, *, seconds: int | None = None, passphrase: str | None = None
) -> dict[str, str]:
    timestamp = str(sim.now_ms() // 1000 if seconds is None else seconds)
    return {
        "apiKey": sim.api_key,
        "passphrase": passphrase or sim.passphrase,
        "timestamp": timestamp,
        "sign": sign(sim.secret_key, timestamp + "GET/users/self/verify"),
    }


def ask(conn: ClientConnection, payload: Any) -> dict[str, Any]:
    conn.send(json.dumps(payload))
    answer: dict[str, Any] = json.loads(conn.recv(timeout=CEILING_S))
    return answer


@contextmanager
def subscribed(sim: Simulator) -> Iterator[ClientConnection]:
    with connect(sim.ws_url, open_timeout=CEILING_S, ping_interval=None) as conn:
        assert ask(conn, {"op": "login", "args": [login_args(sim)]})["event"] == "login"
        assert ask(conn, {"op": "subscribe", "args": [ORDERS]})["event"] == "subscribe"
        yield conn


def test_login_and_subscribe_are_acknowledged(sim: Simulator) -> None:
    with connect(sim.ws_url, open_timeout=CEILING_S) as conn:
        answer = ask(conn, {"op": "login", "args": [login_args(sim)]})
        assert answer["event"] == "login" and answer["code"] == "0" and answer["connId"]
        ack = ask(conn, {"op": "subscribe", "args": [ORDERS]})
        assert ack["event"] == "subscribe" and ack["arg"] == ORDERS


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"seconds": 1}, "60006"),
        ({"passphrase": "wrong"}, "60024"),
    ],
)
def test_a_bad_login_is_refused(sim: Simulator, change: dict[str, Any], code: str) -> None:
    with connect(sim.ws_url, open_timeout=CEILING_S) as conn:
        answer = ask(conn, {"op": "login", "args": [login_args(sim, **change)]})
        assert answer["event"] == "error" and answer["code"] == code


def test_a_bad_signature_and_subscribe_before_login_are_refused(sim: Simulator) -> None:
    with connect(sim.ws_url, open_timeout=CEILING_S) as conn:
        assert ask(conn, {"op": "subscribe", "args": [ORDERS]})["code"] == "60011"
        args = {**login_args(sim), "sign": sign("not-the-secret", "x")}
        assert ask(conn, {"op": "login", "args": [args]})["code"] == "60007"


def test_another_path_is_not_upgraded(sim: Simulator) -> None:
    with pytest.raises(InvalidStatus):
        connect(sim.ws_url.replace("/private", "/public"), open_timeout=CEILING_S)


def test_text_ping_is_answered_pong(sim: Simulator) -> None:
    with connect(sim.ws_url, open_timeout=CEILING_S) as conn:
        conn.send("ping")
        assert conn.recv(timeout=CEILING_S) == "pong"


def test_a_placed_order_is_pushed_with_ws_avg_px(sim: Simulator, okx: RawOkx) -> None:
    with subscribed(sim) as conn:
        okx.place(side="buy", posSide="long", ordType="post_only", px="2990", sz="1", clOrdId="ws1")
        push = json.loads(conn.recv(timeout=CEILING_S))
        assert push["arg"] == {**ORDERS, "uid": okx.get("/api/v5/account/config")["data"][0]["uid"]}
        (order,) = push["data"]
        assert order["clOrdId"] == "ws1" and order["state"] == "live" and order["avgPx"] == "0"


def test_a_fill_pushes_the_order_then_the_instruments_positions(sim: Simulator, okx: RawOkx) -> None:
    positions = {"channel": "positions", "instType": "SWAP"}
    with connect(sim.ws_url, open_timeout=CEILING_S, ping_interval=None) as conn:
        assert ask(conn, {"op": "login", "args": [login_args(sim)]})["event"] == "login"
        conn.send(json.dumps({"op": "subscribe", "args": [ORDERS, positions]}))
        assert [json.loads(conn.recv(timeout=CEILING_S))["event"] for _ in range(2)] == [
            "subscribe",
            "subscribe",
        ]
        okx.place(side="buy", posSide="long", ordType="post_only", px="2990", sz="1", clOrdId="wsPos")
        assert (
            json.loads(conn.recv(timeout=CEILING_S))["data"][0]["state"] == "live"
        )  # no fill: no positions push
        sim.set_price("2985")
        order_push, position_push = (json.loads(conn.recv(timeout=CEILING_S)) for _ in range(2))
        assert order_push["arg"]["channel"] == "orders"
        assert order_push["data"][0]["state"] == "partially_filled"
        assert position_push["arg"]["channel"] == "positions"
        assert position_push["data"] == okx.get("/api/v5/account/positions?instId=ETH-USDT-SWAP")["data"]
        assert sim.set_ws_faults({})["positions_pushed"] == 1


def test_lose_loses_exactly_the_next_change(sim: Simulator, okx: RawOkx) -> None:
    with subscribed(sim) as conn:
        assert sim.set_ws_faults({"lose": 1})["lose"] == 1
        okx.place(side="buy", posSide="long", ordType="post_only", px="2990", sz="1", clOrdId="lost")
        okx.place(side="buy", posSide="long", ordType="post_only", px="2980", sz="1", clOrdId="kept")
        assert json.loads(conn.recv(timeout=CEILING_S))["data"][0]["clOrdId"] == "kept"
        assert sim.set_ws_faults({})["lost"] == 1


def test_admin_route_drops_every_connection(sim: Simulator, okx: RawOkx) -> None:
    with subscribed(sim) as conn:
        answer = okx.session.post(sim.base_url + "/sim/ws", json={"drop": True}, timeout=CEILING_S).json()
        assert answer["drops"] == 1
        with pytest.raises(ConnectionClosedError):
            conn.recv(timeout=CEILING_S)


def test_the_faults_route_reaches_the_channel_too(sim: Simulator, okx: RawOkx) -> None:
    with subscribed(sim) as conn:
        answer = okx.session.post(
            sim.base_url + "/sim/faults", json={"ws": {"drop": True}}, timeout=CEILING_S
        ).json()
        assert answer["ws"]["drops"] == 1
        with pytest.raises(ConnectionClosedError):
            conn.recv(timeout=CEILING_S)
    assert okx.session.post(sim.base_url + "/sim/faults", json={"rules": []}, timeout=CEILING_S).json() == {
        "rules": []
    }


def test_unknown_fault_fields_are_refused(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="unknown"):
        sim.set_ws_faults({"explode": True})
