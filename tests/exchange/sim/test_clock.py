"""The clock: manual moves only when told; realtime follows the wall clock times a speed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx


def test_manual_clock_starts_on_a_15_minute_boundary_and_stands_still(sim: Simulator) -> None:
    start = sim.now_ms()
    assert start % 900_000 == 0
    assert sim.now_ms() == start
    sim.advance(0.25)
    assert sim.now_ms() == start + 250
    with pytest.raises(ValueError):
        sim.advance(-1)


def test_realtime_clock_starts_now_and_runs_at_its_speed() -> None:
    wall_before, host_before = int(time.time() * 1000), time.monotonic()
    with Simulator(clock="realtime", speed=100) as sim:
        okx = RawOkx(sim)
        first = sim.now_ms()
        host_ms = (time.monotonic() - host_before) * 1000  # however long starting took here
        assert wall_before <= first <= time.time() * 1000 + host_ms * 100
        give_up = time.monotonic() + 60  # a generous ceiling: 5 s of its clock are 50 ms of ours
        while sim.now_ms() - first < 5_000:
            assert time.monotonic() < give_up, "the realtime clock stood still"
            time.sleep(0.001)  # bounded polling of the simulator's own clock
        served = int(okx.get("/api/v5/public/time")["data"][0]["ts"])
        assert served - first >= 5_000
        assert okx.send("GET", "/api/v5/account/balance").status_code == 200  # signed on the sim clock
        newest = okx.get("/api/v5/market/candles?instId=ETH-USDT-SWAP&limit=1")["data"][0]
        assert int(newest[0]) >= served - served % 60_000  # the walk kept up with the clock


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"clock": "sundial"}, "clock"),
        ({"speed": 0}, "speed"),
        ({"start_ms": 1_000}, "start_ms"),
        ({"start_px": "3000.001"}, "tickSz"),
        ({"fill_ratio": "0"}, "fill_ratio"),
    ],
)
def test_bad_settings_are_refused_at_construction(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Simulator(**kwargs)
