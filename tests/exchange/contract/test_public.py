"""Public endpoints: server time and clock sync, instrument specs, candles."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest

from exchange import OkxInvalidRequest
from tests.exchange.contract.venue import Venue

pytestmark = pytest.mark.contract

MINUTE_MS = 60_000
BAR_MS = {"1m": MINUTE_MS, "15m": 15 * MINUTE_MS, "1H": 60 * MINUTE_MS}


def test_sync_time_makes_now_ms_follow_the_venue_clock(venue: Venue) -> None:
    client = venue.client
    client.sync_time()
    server_ms = client.get_server_time()
    assert abs(client.now_ms() - server_ms) < 5_000


@pytest.mark.sim_only
def test_sync_time_measures_a_clock_that_moved(venue: Venue) -> None:
    client = venue.client
    before = client.now_ms()
    venue.controls.advance(3600)
    assert client.get_server_time() == venue.controls.now_ms()
    client.sync_time()
    assert abs(client.now_ms() - before - 3_600_000) < 1_000


def test_eth_swap_instrument_has_the_design_specs(venue: Venue) -> None:
    inst = venue.client.get_instrument("ETH-USDT-SWAP")
    assert (inst.instId, inst.instType, inst.state) == ("ETH-USDT-SWAP", "SWAP", "live")
    specs = (inst.ctVal, inst.tickSz, inst.lotSz, inst.minSz)
    assert specs == (Decimal("0.1"), Decimal("0.01"), Decimal("0.01"), Decimal("0.01"))
    assert (inst.ctMult, inst.ctValCcy, inst.settleCcy) == (Decimal("1"), "ETH", "USDT")


@pytest.mark.parametrize("bar", sorted(BAR_MS))
def test_candles_come_ascending_with_only_the_newest_still_forming(venue: Venue, bar: str) -> None:
    candles = venue.client.get_candles(venue.symbol, bar, limit=5)
    assert len(candles) == 5
    assert [b.ts - a.ts for a, b in pairwise(candles)] == [BAR_MS[bar]] * 4
    assert all(c.confirm for c in candles[:-1])
    assert candles[-1].ts <= venue.client.get_server_time()
    assert all(c.l <= min(c.o, c.c) and c.h >= max(c.o, c.c) for c in candles)


def test_candles_limit_goes_up_to_300_and_the_client_refuses_more(venue: Venue) -> None:
    assert len(venue.client.get_candles(venue.symbol, "1m", limit=300)) == 300
    with pytest.raises(OkxInvalidRequest):
        venue.client.get_candles(venue.symbol, "1m", limit=301)
