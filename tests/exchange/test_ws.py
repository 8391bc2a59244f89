"""OkxPrivateStream against the simulator's private channel (and one scripted server), loopback only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from websockets.sync.server import ServerConnection, serve

from exchange.errors import OkxAuthError, OkxInvalidPayload, OkxTimestampError, OkxTransportError
from exchange.records import OkxOrder, parse_order
from exchange.sim import Simulator
from exchange.ws import PING_AFTER_S, OkxPrivateStream
from tests.exchange.sim.okx_http import RawOkx

CEILING_S = 60.0  # how long a push or a reconnect may take on a busy machine; never a budget
QUIET_S = 0.05  # how long "nothing more arrives" is listened for: a slow machine can only lengthen it


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=7, volatility="0") as simulator:
        yield simulator


@pytest.fixture
def okx(sim: Simulator) -> RawOkx:
    return RawOkx(sim)


def stream_for(
    sim: Simulator, ping_after: float = PING_AFTER_S, pong_wait: float = CEILING_S
) -> OkxPrivateStream:
    return OkxPrivateStream(
        sim.ws_url,
        sim.api_key,
        sim.secret_key,
        sim.passphrase,
        now_ms=sim.now_ms,
        backoff=(0.01, 0.05),
        ping_after=ping_after,
        pong_wait=pong_wait,  # a pong late on a busy machine is not a dead connection
    )


@pytest.fixture
def stream(sim: Simulator) -> Iterator[OkxPrivateStream]:
    with stream_for(sim) as connected:
        yield connected


def order_details(okx: RawOkx, ord_id: str) -> OkxOrder:
    return parse_order(okx.get(f"/api/v5/trade/order?instId=ETH-USDT-SWAP&ordId={ord_id}")["data"][0])


def place(okx: RawOkx, px: str, client_order_id: str) -> str:
    fields = {"side": "buy", "posSide": "long", "ordType": "post_only", "px": px, "sz": "1"}
    ord_id: str = okx.place(**fields, clOrdId=client_order_id)["data"][0]["ordId"]
    return ord_id


def wait_until(condition: Callable[[], bool], stream: OkxPrivateStream) -> None:
    give_up = time.monotonic() + CEILING_S
    while not condition():
        assert time.monotonic() < give_up, f"condition not met within {CEILING_S:.0f} s"
        stream.receive(0.02)


def test_login_and_subscribe(sim: Simulator, stream: OkxPrivateStream) -> None:
    assert stream.connected and stream.reconnects == 0
    assert sim.set_ws_faults({})["logins"] == 1
    assert stream.receive(QUIET_S) is None


def test_a_placed_order_is_pushed_as_its_rest_record(okx: RawOkx, stream: OkxPrivateStream) -> None:
    ord_id = place(okx, "2990", "wsLive1")
    pushed = stream.receive(CEILING_S)
    assert pushed is not None and pushed.state == "live" and pushed.avgPx is None
    assert pushed == order_details(okx, ord_id)
    assert stream.last_push_at is not None


def test_a_fill_is_pushed(sim: Simulator, okx: RawOkx, stream: OkxPrivateStream) -> None:
    ord_id = place(okx, "2990", "wsFill1")
    assert stream.receive(CEILING_S) is not None
    sim.set_price("2985")
    pushed = stream.receive(CEILING_S)
    assert pushed is not None and pushed.state == "partially_filled"
    assert pushed.fillSz == pushed.accFillSz == pushed.sz / 2 and pushed.tradeId
    assert pushed == order_details(okx, ord_id)
    assert stream.receive(QUIET_S) is None  # the positions push that followed is not an order
    assert sim.set_ws_faults({})["positions_pushed"] == 1


def test_keepalive_ping_is_answered(sim: Simulator) -> None:
    with stream_for(sim, ping_after=0.02) as stream:
        wait_until(lambda: stream.pongs >= 2, stream)
        assert stream.reconnects == 0 and sim.set_ws_faults({})["pongs"] >= 2


def test_a_missing_pong_reconnects() -> None:
    with (
        scripted_server(_silent) as url,
        OkxPrivateStream(
            url,
            "key",
            "secret",
            "pass",
            now_ms=lambda: 0,
            ping_after=0.02,
            pong_wait=0.05,
            backoff=(0.01, 0.05),
        ) as stream,
    ):
        wait_until(lambda: stream.reconnects >= 1, stream)
        assert stream.pongs == 0


def test_reconnect_after_a_drop_logs_in_again(sim: Simulator, okx: RawOkx, stream: OkxPrivateStream) -> None:
    assert sim.set_ws_faults({"drop": True})["drops"] == 1
    wait_until(lambda: stream.reconnects == 1, stream)
    assert stream.connected and sim.set_ws_faults({})["logins"] == 2
    ord_id = place(okx, "2990", "wsAfterDrop")
    pushed = stream.receive(CEILING_S)
    assert pushed is not None and pushed.ordId == ord_id and stream.reconnects == 1


def test_a_bad_login_raises_auth_error_without_secrets(sim: Simulator) -> None:
    stream = OkxPrivateStream(sim.ws_url, sim.api_key, sim.secret_key, "WrongPassphrase1", now_ms=sim.now_ms)
    with pytest.raises(OkxAuthError) as caught:
        stream.connect()
    assert caught.value.code == "60024" and not stream.connected
    for secret in (sim.secret_key, "WrongPassphrase1"):
        assert secret not in str(caught.value) and secret not in repr(stream)


def test_a_skewed_timestamp_raises_timestamp_error(sim: Simulator) -> None:
    stream = OkxPrivateStream(
        sim.ws_url, sim.api_key, sim.secret_key, sim.passphrase, now_ms=lambda: sim.now_ms() + 120_000
    )
    with pytest.raises(OkxTimestampError):
        stream.connect()


def test_receive_before_connect_refuses(sim: Simulator) -> None:
    with pytest.raises(OkxTransportError, match="not connected"):
        stream_for(sim).receive(0.01)


def test_a_lost_push_loses_exactly_one(sim: Simulator, okx: RawOkx, stream: OkxPrivateStream) -> None:
    sim.set_ws_faults({"lose": 1})
    place(okx, "2990", "wsLost")
    kept = place(okx, "2980", "wsKept")
    pushed = stream.receive(CEILING_S)
    assert pushed is not None and pushed.ordId == kept
    assert stream.receive(QUIET_S) is None and sim.set_ws_faults({})["lost"] == 1


def test_a_delayed_push_still_arrives(sim: Simulator, okx: RawOkx, stream: OkxPrivateStream) -> None:
    sim.set_ws_faults({"delay_ms": 100})
    placed = time.monotonic()
    place(okx, "2990", "wsLate")
    assert stream.receive(CEILING_S) is not None
    assert time.monotonic() - placed >= 0.1  # held back: a lower bound, which a slow machine only adds to


def _accept(conn: ServerConnection) -> None:
    """Accept the login and both subscriptions."""
    conn.recv()
    conn.send(json.dumps({"event": "login", "code": "0", "msg": "", "connId": "c1"}))
    for arg in json.loads(conn.recv())["args"]:
        conn.send(json.dumps({"event": "subscribe", "arg": arg, "connId": "c1"}))


def _malformed(conn: ServerConnection) -> None:
    """Then push an order without its required fields."""
    _accept(conn)
    conn.send(json.dumps({"arg": {"channel": "orders", "instType": "SWAP"}, "data": [{"ordId": "1"}]}))
    conn.recv()


def _silent(conn: ServerConnection) -> None:
    """Then read everything and answer nothing, "ping" included."""
    _accept(conn)
    for _ in conn:
        pass


@contextmanager
def scripted_server(handler: Callable[[ServerConnection], None]) -> Iterator[str]:
    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/ws/v5/private"
        server.shutdown()


def test_a_malformed_push_raises_invalid_payload() -> None:
    with (
        scripted_server(_malformed) as url,
        OkxPrivateStream(url, "key", "secret", "pass", now_ms=lambda: 0) as stream,
        pytest.raises(OkxInvalidPayload, match="order"),
    ):
        stream.receive(CEILING_S)
