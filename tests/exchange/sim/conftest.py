"""Fixtures: a started simulator on a manual clock with a still market (prices move only when told)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from exchange.sim import Simulator
from tests.exchange.sim.host_time import HostTime, freeze_host_time
from tests.exchange.sim.okx_http import RawOkx


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=7, volatility="0") as simulator:
        yield simulator


@pytest.fixture
def okx(sim: Simulator) -> RawOkx:
    return RawOkx(sim)


@pytest.fixture
def host_time(monkeypatch: pytest.MonkeyPatch) -> HostTime:
    """The host's monotonic time frozen for the simulator: it moves only by `host_time.advance(s)`."""
    return freeze_host_time(monkeypatch)
