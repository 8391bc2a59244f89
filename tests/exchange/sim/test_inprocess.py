"""The simulator served in process (a replay's transport): the client signs, sends and parses as over
loopback and gets the same answers; only the simulator's own URL is served; order changes are counted."""

from __future__ import annotations

import pytest

from exchange import OkxClient, OkxInvalidRequest
from exchange.sim import Simulator
from exchange.sim.inprocess import IN_PROCESS_URL


def clients(sim: Simulator) -> tuple[OkxClient, OkxClient]:
    creds = (sim.api_key, sim.secret_key, sim.passphrase)
    seconds = lambda: sim.now_ms() / 1000  # noqa: E731
    inside = OkxClient(*creds, base_url=IN_PROCESS_URL, session=sim.in_process(), clock=seconds, armed=True)
    return inside, OkxClient(*creds, base_url=sim.base_url, clock=seconds)


def test_in_process_answers_are_the_loopbacks(sim: Simulator) -> None:
    inside, outside = clients(sim)
    before = sim.changes
    sim.user_order("buy", "2", ord_type="limit", px="2990")
    sim.user_order("buy", "1")
    assert sim.changes > before
    assert inside.list_open_orders(None) == outside.list_open_orders(None) != []
    assert inside.get_positions(None) == outside.get_positions(None) != []
    assert inside.get_candles("ETH-USDT-SWAP", "15m", 5) == outside.get_candles("ETH-USDT-SWAP", "15m", 5)
    reads = sim.changes
    inside.list_fills_since("ETH-USDT-SWAP", None)
    assert sim.changes == reads  # a read changes nothing
    assert sim.stats()["requests"]["GET /api/v5/trade/orders-pending"] == 2


def test_only_the_simulator_is_served_in_process(sim: Simulator) -> None:
    creds = (sim.api_key, sim.secret_key, sim.passphrase)
    stray = OkxClient(*creds, base_url="http://example.invalid", session=sim.in_process())
    with pytest.raises(OkxInvalidRequest, match="in process"):
        stray.list_open_orders(None)
    assert sim.stats()["total"] == 0
