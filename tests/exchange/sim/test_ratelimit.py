"""Rate limits per endpoint and key, on the simulator clock: HTTP 429 with OKX's bare 50011 body."""

from __future__ import annotations

import json

import pytest

from exchange.sim import Simulator
from tests.exchange.sim.host_time import HostTime
from tests.exchange.sim.okx_http import RawOkx

# A window also empties after 2 s of host time: frozen here, so counting into one never races the machine.
pytestmark = pytest.mark.usefixtures("host_time")

TOO_MANY = {"msg": "Too Many Requests", "code": "50011"}


def _status(okx: RawOkx, target: str) -> int:
    return okx.send("GET", target).status_code


def test_the_eleventh_balance_read_in_two_seconds_is_429_without_data(sim: Simulator, okx: RawOkx) -> None:
    assert [_status(okx, "/api/v5/account/balance") for _ in range(10)] == [200] * 10
    response = okx.send("GET", "/api/v5/account/balance")
    assert response.status_code == 429
    assert response.json() == TOO_MANY
    assert _status(okx, "/api/v5/account/positions") == 200  # another endpoint, another budget
    sim.advance(2)
    assert _status(okx, "/api/v5/account/balance") == 200


def test_order_reads_are_limited_per_instrument(okx: RawOkx) -> None:
    eth = "/api/v5/trade/order?instId=ETH-USDT-SWAP&ordId=1"
    btc = "/api/v5/trade/order?instId=BTC-USDT-SWAP&ordId=1"
    assert {_status(okx, eth) for _ in range(60)} == {200}
    assert _status(okx, eth) == 429
    assert _status(okx, btc) == 200


def _cancels(count: int, inst_id: str = "ETH-USDT-SWAP") -> str:
    return json.dumps([{"instId": inst_id, "ordId": str(i + 1)} for i in range(count)])


def test_batches_count_per_order_and_a_one_order_batch_counts_as_a_single_request(okx: RawOkx) -> None:
    for _ in range(15):
        assert okx.send("POST", "/api/v5/trade/cancel-batch-orders", _cancels(20)).status_code == 200
    assert (
        okx.send("POST", "/api/v5/trade/cancel-batch-orders", _cancels(1)).status_code == 200
    )  # single budget
    refused = okx.send("POST", "/api/v5/trade/cancel-batch-orders", _cancels(2))  # 300 orders used
    assert (refused.status_code, refused.json()) == (429, TOO_MANY)
    assert (
        okx.send("POST", "/api/v5/trade/cancel-batch-orders", _cancels(2, "BTC-USDT-SWAP")).status_code == 200
    )
    for _ in range(59):  # with the one-order batch above: 60, the cancel-order budget
        okx.send("POST", "/api/v5/trade/cancel-order", _cancels(1)[1:-1])
    assert okx.send("POST", "/api/v5/trade/cancel-batch-orders", _cancels(1)).status_code == 429


def test_rate_limits_can_be_switched_off_for_long_scripted_runs() -> None:
    with Simulator(rate_limits=False) as sim:
        okx = RawOkx(sim)
        assert {_status(okx, "/api/v5/account/config") for _ in range(12)} == {200}


def test_public_endpoints_are_limited_per_ip(okx: RawOkx) -> None:
    assert {okx.send("GET", "/api/v5/public/time").status_code for _ in range(10)} == {200}
    assert okx.send("GET", "/api/v5/public/time").status_code == 429


def test_a_manual_clock_window_also_empties_after_two_seconds_of_wall_time(
    okx: RawOkx, host_time: HostTime
) -> None:
    """The 11th /public/time is 429, but a manual clock that nobody advances must not block it forever."""
    assert {_status(okx, "/api/v5/public/time") for _ in range(10)} == {200}
    assert _status(okx, "/api/v5/public/time") == 429
    host_time.advance(2.5)
    assert _status(okx, "/api/v5/public/time") == 200
