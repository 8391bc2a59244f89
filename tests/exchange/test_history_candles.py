"""The client's history-candles: one page, and the forward paging a download is built on, against the
simulator (public: no credentials), judged by the simulator's own rows and request counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from exchange import Candle, OkxClient, OkxError, OkxInvalidRequest, OkxRateLimited
from exchange.sim import Simulator

SYMBOL, M15 = "ETH-USDT-SWAP", 900_000
HISTORY = "GET /api/v5/market/history-candles"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=11, start_ms=1_767_571_230_000) as simulator:  # 30 s into a 15m bar
        yield simulator


def public(sim: Simulator, **kwargs: Any) -> OkxClient:
    return OkxClient("", "", "", base_url=sim.base_url, demo=False, **kwargs)


def test_pages_go_forward_in_windows_of_100_bars_and_end_before_the_forming_bar(sim: Simulator) -> None:
    now = public(sim).get_server_time()
    forming = now - now % M15
    since = forming - 250 * M15
    sim.reset()
    pages = list(public(sim).history_candle_pages(SYMBOL, "15m", since, forming + 5 * M15))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert sim.stats()["requests"] == {HISTORY: 3}
    got = [c for page in pages for c in page]
    assert [c.ts for c in got] == [since + i * M15 for i in range(250)]
    assert all(c.confirm for c in got)
    assert [list(c.raw) for c in got] == [list(c.raw) for c in reversed_pages(sim, since, forming)]


def reversed_pages(sim: Simulator, since: int, until: int) -> list[Candle]:
    """The simulator's own answer to plain backward paging (`after` only), oldest first."""
    client, after = public(sim), until
    found: list[Candle] = []
    while after > since:
        page = client.get_history_candles(SYMBOL, "15m", after=after)
        found[:0] = [c for c in page if c.ts >= since]
        after = page[0].ts
    return found


def test_a_429_is_waited_out_and_the_caller_hears_of_each_wait(sim: Simulator) -> None:
    heard: list[tuple[str, OkxError, float]] = []
    slept: list[float] = []
    client = public(sim, on_retry=lambda path, exc, s: heard.append((path, exc, s)), sleep=slept.append)
    now = client.get_server_time()
    since = now - now % M15 - 150 * M15
    sim.set_faults([{"endpoint": HISTORY, "kind": "burst_429", "count": 2}])
    pages = list(client.history_candle_pages(SYMBOL, "15m", since, now))
    assert [len(p) for p in pages] == [100, 50]
    assert [(path, type(exc), s) for path, exc, s in heard] == [
        ("/api/v5/market/history-candles", OkxRateLimited, 0.25),
        ("/api/v5/market/history-candles", OkxRateLimited, 0.5),
    ]
    assert sim.stats()["faults"] == {"burst_429": 2} and 0.25 in slept and 0.5 in slept


def test_a_page_limit_above_100_and_an_unknown_bar_are_refused_before_sending(sim: Simulator) -> None:
    client = public(sim)
    sim.reset()
    with pytest.raises(OkxInvalidRequest):
        client.get_history_candles(SYMBOL, "15m", limit=101)
    with pytest.raises(OkxInvalidRequest, match="unknown bar"):
        next(client.history_candle_pages(SYMBOL, "15min", 0, 1))
    assert sim.stats()["total"] == 0
