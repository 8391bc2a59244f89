"""Public market data: time, instruments, candles and ticker, as OKX shapes them."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

CANDLES = "/api/v5/market/candles?instId=ETH-USDT-SWAP"
BAR_MS = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1H": 3_600_000,
          "4H": 14_400_000}  # fmt: skip


def test_server_time_is_the_simulator_clock_in_ms(sim: Simulator, okx: RawOkx) -> None:
    assert okx.get("/api/v5/public/time") == {"code": "0", "data": [{"ts": "1767571200000"}], "msg": ""}
    sim.advance("1.5")
    assert okx.get("/api/v5/public/time")["data"][0]["ts"] == "1767571201500"


def test_swap_instruments_carry_the_design_contract_specs(okx: RawOkx) -> None:
    body = okx.get("/api/v5/public/instruments?instType=SWAP")
    specs = {
        i["instId"]: (i["ctVal"], i["ctMult"], i["ctValCcy"], i["tickSz"], i["lotSz"], i["minSz"])
        for i in body["data"]
    }
    assert specs == {
        "ETH-USDT-SWAP": ("0.1", "1", "ETH", "0.01", "0.01", "0.01"),
        "BTC-USDT-SWAP": ("0.01", "1", "BTC", "0.1", "0.01", "0.01"),
    }
    for inst in body["data"]:
        assert inst["instType"] == "SWAP"
        assert inst["settleCcy"] == "USDT"
        assert inst["state"] == "live"
        assert inst["maxLmtSz"]
        assert inst["ctType"] == "linear"
        assert isinstance(inst["instIdCode"], int)


def test_instruments_filter_by_inst_id_and_answer_other_types_empty(okx: RawOkx) -> None:
    one = okx.get("/api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP")["data"]
    assert [i["instId"] for i in one] == ["BTC-USDT-SWAP"]
    for inst_type in ("SPOT", "MARGIN", "FUTURES", "OPTION"):
        assert okx.get(f"/api/v5/public/instruments?instType={inst_type}") == {
            "code": "0",
            "data": [],
            "msg": "",
        }


def test_instruments_without_inst_type_is_a_malformed_request(okx: RawOkx) -> None:
    response = okx.send("GET", "/api/v5/public/instruments")
    assert response.status_code == 400
    assert response.json() == {"code": "51000", "data": [], "msg": "Parameter instType error"}


@pytest.mark.parametrize("bar", list(BAR_MS))
def test_candles_have_300_bars_of_history_newest_first(okx: RawOkx, bar: str) -> None:
    rows = okx.get(f"{CANDLES}&bar={bar}&limit=300")["data"]
    assert len(rows) == 300
    stamps = [int(r[0]) for r in rows]
    assert stamps == sorted(stamps, reverse=True)
    assert all(a - b == BAR_MS[bar] for a, b in itertools.pairwise(stamps))
    assert all(len(r) == 9 and all(isinstance(v, str) for v in r) for r in rows)
    assert rows[0][8] == "0"  # the forming bar
    assert {r[8] for r in rows[1:]} == {"1"}
    for row in rows:
        o, h, low, c = (Decimal(v) for v in row[1:5])
        assert low <= min(o, c) <= max(o, c) <= h


def test_candle_limit_defaults_to_100_and_caps_at_300(okx: RawOkx) -> None:
    assert len(okx.get(CANDLES)["data"]) == 100
    assert len(okx.get(f"{CANDLES}&bar=1m&limit=500")["data"]) == 300


def test_candles_page_with_after_and_before(okx: RawOkx) -> None:
    newest = okx.get(f"{CANDLES}&bar=15m&limit=10")["data"]
    older = okx.get(f"{CANDLES}&bar=15m&limit=5&after={newest[4][0]}")["data"]
    assert older == newest[5:10]
    newer = okx.get(f"{CANDLES}&bar=15m&before={newest[3][0]}")["data"]
    assert newer == newest[:3]


def test_bigger_bars_aggregate_the_one_minute_bars(okx: RawOkx) -> None:
    fifteen = okx.get(f"{CANDLES}&bar=15m&limit=2")["data"][1]
    minutes = okx.get(f"{CANDLES}&bar=1m&limit=16")["data"][1:16]
    assert fifteen[0] == minutes[-1][0]
    assert fifteen[1] == minutes[-1][1]
    assert fifteen[4] == minutes[0][4]
    assert Decimal(fifteen[2]) == max(Decimal(m[2]) for m in minutes)
    assert Decimal(fifteen[3]) == min(Decimal(m[3]) for m in minutes)
    assert int(fifteen[5]) == sum(int(m[5]) for m in minutes)


def test_a_bar_confirms_once_the_clock_passes_its_end(sim: Simulator, okx: RawOkx) -> None:
    forming = okx.get(f"{CANDLES}&bar=15m&limit=1")["data"][0]
    assert forming[8] == "0"
    sim.advance(900)
    rows = okx.get(f"{CANDLES}&bar=15m&limit=2")["data"]
    assert rows[1][0] == forming[0]
    assert (rows[0][8], rows[1][8]) == ("0", "1")


def test_unknown_bar_and_unknown_instrument_are_refused(okx: RawOkx) -> None:
    response = okx.send("GET", f"{CANDLES}&bar=1h")
    assert (response.status_code, response.json()["code"]) == (400, "51000")
    assert okx.get("/api/v5/market/candles?instId=DOGE-USDT-SWAP")["code"] == "51001"


def test_same_seed_gives_the_same_market() -> None:
    def history(seed: int) -> list[list[str]]:
        with Simulator(seed=seed) as sim:
            okx = RawOkx(sim)
            sim.advance(120)
            data: list[list[str]] = okx.get(f"{CANDLES}&bar=1m&limit=50")["data"]
            return data

    assert history(3) == history(3)
    assert history(3) != history(4)


def test_ticker_reports_the_last_price(sim: Simulator, okx: RawOkx) -> None:
    sim.set_price("3012.34")
    ticker = okx.get("/api/v5/market/ticker?instId=ETH-USDT-SWAP")["data"][0]
    assert ticker["last"] == "3012.34"
    assert ticker["instId"] == "ETH-USDT-SWAP"
    assert Decimal(ticker["low24h"]) <= Decimal(ticker["last"]) <= Decimal(ticker["high24h"])


HISTORY = "/api/v5/market/history-candles?instId=ETH-USDT-SWAP"


def test_history_candles_reach_older_bars_than_candles(okx: RawOkx) -> None:
    oldest_recent = int(okx.get(f"{CANDLES}&bar=1m&after=1767571200000&limit=300")["data"][-1][0])
    far = oldest_recent - 5 * 1440 * BAR_MS["1m"]
    assert okx.get(f"{CANDLES}&bar=1m&after={far}")["data"] == []
    rows = okx.get(f"{HISTORY}&bar=1m&after={far}&limit=3")["data"]
    assert [int(r[0]) for r in rows] == [far - 60_000, far - 120_000, far - 180_000]
    assert {r[8] for r in rows} == {"1"}


def test_history_candles_agree_with_candles_where_both_reach(okx: RawOkx) -> None:
    assert okx.get(f"{HISTORY}&bar=15m&limit=5") == okx.get(f"{CANDLES}&bar=15m&limit=5")


def test_history_candles_limit_defaults_to_and_caps_at_100(okx: RawOkx) -> None:
    assert len(okx.get(HISTORY)["data"]) == 100
    assert len(okx.get(f"{HISTORY}&limit=300")["data"]) == 100


def test_history_candles_reach_3_years_back(okx: RawOkx) -> None:
    now, span = 1767571200000, BAR_MS["4H"]
    oldest = now - 3 * 365 * 86_400_000 + span  # the forming bar included
    rows = okx.get(f"{HISTORY}&bar=4H&after={oldest + 2 * span}")["data"]
    assert [int(r[0]) for r in rows] == [oldest + span, oldest]


@pytest.mark.parametrize("days_back", [30, 182])
def test_history_candles_months_back_page_and_join_up(days_back: int) -> None:
    """On a moving market, back where the history made a day at a time meets the recent walk, and six
    months back: two adjacent pages meet (the older page's newest bar closes where the newer page's
    oldest bar opens), and every bar's range holds its open and close."""
    span, far = BAR_MS["15m"], 1767571200000 - days_back * 86_400_000
    with Simulator(seed=7) as sim:
        okx = RawOkx(sim)
        newer = okx.get(f"{HISTORY}&bar=15m&after={far + 100 * span}&before={far - 1}")["data"]
        older = okx.get(f"{HISTORY}&bar=15m&after={far}")["data"]
    assert len({row[4] for row in newer + older}) > 100  # the price moves
    assert [int(r[0]) for r in newer] == [far + i * span for i in range(99, -1, -1)]
    assert int(older[0][0]) == far - span and len(older) == 100
    assert older[0][4] == newer[-1][1]
    for row in newer + older:
        o, h, low, c = (Decimal(x) for x in row[1:5])
        assert low <= min(o, c) and h >= max(o, c)
