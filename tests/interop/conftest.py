"""Fixtures: one simulator per clock mode, each with a clock that is not the host's wall clock.

The libraries sign with the host's wall clock, and the simulator accepts a timestamp within 30 s of that
or of its own clock. Manual: advanced by hours. Realtime at speed 60: the clock gains 59 s on the wall
clock every second. Both markets are still (volatility 0): a price a test sets stays put however long
the machine takes to read it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from exchange.sim import Simulator

INST_ID = "ETH-USDT-SWAP"


@pytest.fixture(scope="module", params=["manual", "realtime"])
def venue(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    manual = request.param == "manual"
    simulator = (
        Simulator(clock="manual", seed=11, volatility="0")
        if manual
        else Simulator(clock="realtime", speed=60, seed=11, volatility="0")
    )
    with simulator:
        if manual:
            simulator.advance(4 * 3600)
        yield simulator


@pytest.fixture
def sim(venue: Simulator) -> Simulator:
    """The module's simulator with a fresh account (the clock and the market go on)."""
    venue.reset()
    return venue


def below_market(sim: Simulator, fraction: str = "0.9") -> Decimal:
    """A price on ETH-USDT-SWAP's tick: `fraction` of the current market."""
    return (Decimal(sim.state()["px"]) * Decimal(fraction)).quantize(Decimal("0.01"))
