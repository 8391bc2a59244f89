"""OkxPrivateStream against the simulator's private and business channels (and scripted servers), loopback
only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from exchange.errors import (
    OkxApiError,
    OkxAuthError,
    OkxInvalidPayload,
    OkxInvalidRequest,
    OkxTimestampError,
    OkxTransportError,
)
from exchange.records import OkxAlgoOrder, OkxOrder, parse_algo_order, parse_order
from exchange.sim import Simulator
from exchange.ws import (
    ALGO_ORDERS,
    DEMO_PRIVATE_URL,
    LIVE_PRIVATE_URL,
    ORDERS,
    PING_AFTER_S,
    Channel,
    OkxPrivateStream,
    channel_url,
)
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
) -> OkxPrivateStream[OkxOrder]:
    return OkxPrivateStream(
        sim.ws_url,
        sim.api_key,
        sim.secret_key,
        sim.passphrase,
        channel=ORDERS,
        now_ms=sim.now_ms,
        backoff=(0.01, 0.05),
        ping_after=ping_after,
        pong_wait=pong_wait,  # a pong late on a busy machine is not a dead connection
    )


@pytest.fixture
def stream(sim: Simulator) -> Iterator[OkxPrivateStream[OkxOrder]]:
    with stream_for(sim) as connected:
        yield connected


def order_details(okx: RawOkx, ord_id: str) -> OkxOrder:
    return parse_order(okx.get(f"/api/v5/trade/order?instId=ETH-USDT-SWAP&ordId={ord_id}")["data"][0])


def place(okx: RawOkx, px: str, client_order_id: str) -> str:
    fields = {"side": "buy", "posSide": "long", "ordType": "post_only", "px": px, "sz": "1"}
    ord_id: str = okx.place(**fields, clOrdId=client_order_id)["data"][0]["ordId"]
    return ord_id


def wait_until(condition: Callable[[], bool], stream: OkxPrivateStream[Any]) -> None:
    give_up = time.monotonic() + CEILING_S
    while not condition():
        assert time.monotonic() < give_up, f"condition not met within {CEILING_S:.0f} s"
        stream.receive(0.02)


def test_login_and_subscribe(sim: Simulator, stream: OkxPrivateStream[OkxOrder]) -> None:
    assert stream.connected and stream.reconnects == 0
    assert sim.set_ws_faults({})["logins"] == 1
    assert stream.receive(QUIET_S) is None


def test_a_placed_order_is_pushed_as_its_rest_record(okx: RawOkx, stream: OkxPrivateStream[OkxOrder]) -> None:
    ord_id = place(okx, "2990", "wsLive1")
    pushed = stream.receive(CEILING_S)
    assert pushed is not None and pushed.state == "live" and pushed.avgPx is None
    assert pushed == order_details(okx, ord_id)
    assert stream.last_push_at is not None


def test_a_fill_is_pushed(sim: Simulator, okx: RawOkx, stream: OkxPrivateStream[OkxOrder]) -> None:
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
            channel=ORDERS,
            now_ms=lambda: 0,
            ping_after=0.02,
            pong_wait=0.05,
            backoff=(0.01, 0.05),
        ) as stream,
    ):
        wait_until(lambda: stream.reconnects >= 1, stream)
        assert stream.pongs == 0


def test_reconnect_after_a_drop_logs_in_again(
    sim: Simulator, okx: RawOkx, stream: OkxPrivateStream[OkxOrder]
) -> None:
    assert sim.set_ws_faults({"drop": True})["drops"] == 1
    wait_until(lambda: stream.reconnects == 1, stream)
    assert stream.connected and sim.set_ws_faults({})["logins"] == 2
    ord_id = place(okx, "2990", "wsAfterDrop")
    pushed = stream.receive(CEILING_S)
    assert pushed is not None and pushed.ordId == ord_id and stream.reconnects == 1


def test_a_bad_login_raises_auth_error_without_secrets(sim: Simulator) -> None:
    stream = OkxPrivateStream(
        sim.ws_url, sim.api_key, sim.secret_key, "WrongPassphrase1", channel=ORDERS, now_ms=sim.now_ms
    )
    with pytest.raises(OkxAuthError) as caught:
        stream.connect()
    assert caught.value.code == "60024" and not stream.connected
    for secret in (sim.secret_key, "WrongPassphrase1"):
        assert secret not in str(caught.value) and secret not in repr(stream)


def test_a_skewed_timestamp_raises_timestamp_error(sim: Simulator) -> None:
    stream = OkxPrivateStream(
        sim.ws_url,
        sim.api_key,
        sim.secret_key,
        sim.passphrase,
        channel=ORDERS,
        now_ms=lambda: sim.now_ms() + 120_000,
    )
    with pytest.raises(OkxTimestampError):
        stream.connect()


def test_receive_before_connect_refuses(sim: Simulator) -> None:
    with pytest.raises(OkxTransportError, match="not connected"):
        stream_for(sim).receive(0.01)


def test_a_lost_push_loses_exactly_one(
    sim: Simulator, okx: RawOkx, stream: OkxPrivateStream[OkxOrder]
) -> None:
    sim.set_ws_faults({"lose": 1})
    place(okx, "2990", "wsLost")
    kept = place(okx, "2980", "wsKept")
    pushed = stream.receive(CEILING_S)
    assert pushed is not None and pushed.ordId == kept
    assert stream.receive(QUIET_S) is None and sim.set_ws_faults({})["lost"] == 1


def test_a_delayed_push_still_arrives(
    sim: Simulator, okx: RawOkx, stream: OkxPrivateStream[OkxOrder]
) -> None:
    sim.set_ws_faults({"delay_ms": 100})
    placed = time.monotonic()
    place(okx, "2990", "wsLate")
    assert stream.receive(CEILING_S) is not None
    assert time.monotonic() - placed >= 0.1  # held back: a lower bound, which a slow machine only adds to


def _accept(conn: ServerConnection) -> None:
    """Accept the login and every subscription."""
    conn.recv()
    conn.send(json.dumps({"event": "login", "code": "0", "msg": "", "connId": "c1"}))
    for arg in json.loads(conn.recv())["args"]:
        conn.send(json.dumps({"event": "subscribe", "arg": arg, "connId": "c1"}))


def _malformed(channel: str) -> Callable[[ServerConnection], None]:
    """Accept, then push on `channel` an item without the fields its record needs."""

    def handler(conn: ServerConnection) -> None:
        _accept(conn)
        conn.send(json.dumps({"arg": {"channel": channel, "instType": "SWAP"}, "data": [{"ordId": "1"}]}))
        conn.recv()

    return handler


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


@pytest.mark.parametrize(("channel", "record"), [(ORDERS, "order"), (ALGO_ORDERS, "algo order")])
def test_a_malformed_push_raises_invalid_payload(channel: Channel[Any], record: str) -> None:
    with (
        scripted_server(_malformed(channel.name)) as url,
        OkxPrivateStream(url, "key", "secret", "pass", channel=channel, now_ms=lambda: 0) as stream,
        pytest.raises(OkxInvalidPayload, match=f"{record}\\.instId: missing"),
    ):
        stream.receive(CEILING_S)


# -- orders-algo on the business path ----------------------------------------------------------------


def algo_stream_for(sim: Simulator) -> OkxPrivateStream[OkxAlgoOrder]:
    return OkxPrivateStream(
        channel_url(sim.ws_url, ALGO_ORDERS),
        sim.api_key,
        sim.secret_key,
        sim.passphrase,
        channel=ALGO_ORDERS,
        now_ms=sim.now_ms,
        backoff=(0.01, 0.05),
    )


@pytest.fixture
def algo_stream(sim: Simulator) -> Iterator[OkxPrivateStream[OkxAlgoOrder]]:
    with algo_stream_for(sim) as connected:
        yield connected


def long_position(okx: RawOkx) -> None:
    assert okx.place(side="buy", posSide="long", ordType="market", sz="1")["code"] == "0"


def test_the_algo_stream_logs_in_on_the_business_path_and_hears_nothing_on_subscribe(
    sim: Simulator, okx: RawOkx
) -> None:
    long_position(okx)
    okx.place_algo(sz="1", slTriggerPx="2900")  # placed before the subscription: never pushed
    with algo_stream_for(sim) as stream:
        assert stream.url == sim.business_ws_url and stream.connected
        assert sim.set_ws_faults({})["logins"] == 1
        assert stream.receive(0.1) is None
    assert sim.set_ws_faults({})["algos_pushed"] == 0


def test_a_fired_stop_is_pushed_as_its_rest_record(
    sim: Simulator, okx: RawOkx, algo_stream: OkxPrivateStream[OkxAlgoOrder]
) -> None:
    long_position(okx)
    algo_id = okx.place_algo(sz="1", slTriggerPx="2900", algoClOrdId="wsStop1")["data"][0]["algoId"]
    live = algo_stream.receive(CEILING_S)
    assert live is not None and (live.algoId, live.algoClOrdId, live.state) == (algo_id, "wsStop1", "live")
    assert live.slTriggerPx == Decimal("2900") and live.pending
    sim.set_price("2899")
    fired = algo_stream.receive(CEILING_S)
    assert fired is not None and fired.state == "effective" and len(fired.ordIdList) == 1
    assert fired == parse_algo_order(okx.algo(algo_id))
    child = okx.order(fired.ordIdList[0])
    assert (child["algoId"], child["algoClOrdId"], child["state"]) == (algo_id, "wsStop1", "filled")
    assert algo_stream.last_push_at is not None
    assert algo_stream.receive(0.05) is None  # the child's order changes go to `orders`, not here


def test_the_algo_stream_reconnects_after_a_drop_and_hears_later_changes(
    sim: Simulator, okx: RawOkx, algo_stream: OkxPrivateStream[OkxAlgoOrder]
) -> None:
    assert sim.set_ws_faults({"drop": True})["drops"] == 1
    wait_until(lambda: algo_stream.reconnects == 1, algo_stream)
    assert algo_stream.connected and sim.set_ws_faults({})["logins"] == 2
    long_position(okx)
    algo_id = okx.place_algo(sz="1", slTriggerPx="2900")["data"][0]["algoId"]
    pushed = algo_stream.receive(CEILING_S)
    assert pushed is not None and pushed.algoId == algo_id and algo_stream.reconnects == 1


def test_the_orders_channel_on_the_business_url_is_refused(sim: Simulator) -> None:
    stream = OkxPrivateStream(
        sim.business_ws_url, sim.api_key, sim.secret_key, sim.passphrase, channel=ORDERS, now_ms=sim.now_ms
    )
    with pytest.raises(OkxApiError) as refused:
        stream.connect()
    assert refused.value.code == "60018" and not stream.connected


@pytest.mark.parametrize(
    ("private", "business"),
    [
        (LIVE_PRIVATE_URL, "wss://ws.okx.com:8443/ws/v5/business"),
        (DEMO_PRIVATE_URL, "wss://wspap.okx.com:8443/ws/v5/business"),
        (
            "wss://wspap.okx.com:8443/ws/v5/private?brokerId=9999",
            "wss://wspap.okx.com:8443/ws/v5/business?brokerId=9999",
        ),
        ("ws://127.0.0.1:8123/ws/v5/private", "ws://127.0.0.1:8123/ws/v5/business"),
    ],
)
def test_the_business_url_is_paired_with_the_private_one(private: str, business: str) -> None:
    assert channel_url(private, ALGO_ORDERS) == business
    assert channel_url(private, ORDERS) == private


def test_a_url_off_the_private_path_has_no_business_pair() -> None:
    with pytest.raises(OkxInvalidRequest, match="does not end in /ws/v5/private"):
        channel_url("wss://example.com:8443/stream", ALGO_ORDERS)
