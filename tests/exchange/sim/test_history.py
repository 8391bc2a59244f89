"""Retention as OKX has it: unfilled cancels gone after 2 h, orders-history 7 days, its archive and
fills-history 3 months, fills 3 days; paging by ordId/billId, begin/end; nothing kept past 3 months."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from exchange.sim import Simulator
from exchange.sim.market import PricePath
from tests.exchange.sim.okx_http import RawOkx

ETH = "ETH-USDT-SWAP"
MINUTE = 60
HOUR = 3600
DAY = 86400
HISTORY = "/api/v5/trade/orders-history?instType=SWAP"
ARCHIVE = "/api/v5/trade/orders-history-archive?instType=SWAP"
FILLS = "/api/v5/trade/fills"
FILLS_HISTORY = "/api/v5/trade/fills-history?instType=SWAP"


BUY = {"side": "buy", "posSide": "long"}


def _place(okx: RawOkx, **fields: str) -> str:
    ack = okx.place(**BUY, sz="1", **fields)["data"][0]
    assert ack["sCode"] == "0", ack
    ord_id: str = ack["ordId"]
    return ord_id


def _ids(okx: RawOkx, target: str, key: str = "ordId") -> list[str]:
    envelope = okx.get(target)
    assert envelope["code"] == "0", envelope
    return [row[key] for row in envelope["data"]]


def _found(okx: RawOkx, ord_id: str) -> dict[str, Any] | None:
    envelope = okx.get(f"/api/v5/trade/order?instId={ETH}&ordId={ord_id}")
    if envelope["code"] == "51603":
        assert envelope == {"code": "51603", "msg": "Order does not exist", "data": []}
        return None
    order: dict[str, Any] = envelope["data"][0]
    return order


def test_a_canceled_unfilled_order_is_found_at_1h59m_and_gone_at_2h01m(sim: Simulator, okx: RawOkx) -> None:
    ord_id = _place(okx, ordType="post_only", px="2990", clOrdId="gone1")
    sim.advance(30 * MINUTE)  # the 2 h count from when the order ended, not from when it was placed
    okx.post("/api/v5/trade/cancel-order", {"instId": ETH, "ordId": ord_id})
    sim.advance(HOUR + 59 * MINUTE)
    assert (_found(okx, ord_id) or {}).get("state") == "canceled"
    assert _ids(okx, HISTORY) == _ids(okx, ARCHIVE) == [ord_id]
    sim.advance(2 * MINUTE)
    assert _found(okx, ord_id) is None
    by_client_order_id = okx.get(f"/api/v5/trade/order?instId={ETH}&clOrdId=gone1")
    assert by_client_order_id["code"] == "51603"
    assert _ids(okx, HISTORY) == _ids(okx, ARCHIVE) == []


def test_a_partly_filled_canceled_order_stays_like_a_filled_one(sim: Simulator, okx: RawOkx) -> None:
    ord_id = _place(okx, ordType="post_only", px="2990")
    sim.set_price("2989.5")  # one step fills half
    okx.post("/api/v5/trade/cancel-order", {"instId": ETH, "ordId": ord_id})
    sim.advance(3 * HOUR)
    order = _found(okx, ord_id)
    assert order is not None and (order["state"], order["accFillSz"]) == ("canceled", "0.5")
    assert _ids(okx, HISTORY + "&state=canceled") == [ord_id]


def test_a_filled_order_moves_from_history_to_the_archive_after_7_days(sim: Simulator, okx: RawOkx) -> None:
    ord_id = _place(okx, ordType="market")
    sim.advance(2 * DAY)
    assert (_found(okx, ord_id) or {}).get("state") == "filled"
    assert _ids(okx, HISTORY) == _ids(okx, ARCHIVE) == [ord_id]
    sim.advance(6 * DAY)
    assert (_found(okx, ord_id) or {}).get("state") == "filled"
    assert _ids(okx, HISTORY) == []
    assert _ids(okx, ARCHIVE) == [ord_id]
    sim.advance(85 * DAY)  # 93 days: past the 3 months
    assert _found(okx, ord_id) is None
    assert _ids(okx, ARCHIVE) == []


def test_fills_leave_fills_after_3_days_and_fills_history_after_3_months(sim: Simulator, okx: RawOkx) -> None:
    _place(okx, ordType="market")
    bill = _ids(okx, FILLS, "billId")
    assert len(bill) == 1
    sim.advance(3 * DAY)
    assert _ids(okx, FILLS, "billId") == bill
    sim.advance(1)
    assert _ids(okx, FILLS, "billId") == []
    assert _ids(okx, FILLS_HISTORY, "billId") == bill
    sim.advance(89 * DAY)
    assert _ids(okx, FILLS_HISTORY, "billId") == []


def test_a_pending_order_is_found_however_old(sim: Simulator, okx: RawOkx) -> None:
    ord_id = _place(okx, ordType="post_only", px="2990")
    sim.advance(100 * DAY)
    assert (_found(okx, ord_id) or {}).get("state") == "live"
    assert _ids(okx, "/api/v5/trade/orders-pending") == [ord_id]
    assert ord_id in [o["ordId"] for o in sim.state()["orders"]]


def test_nothing_older_than_3_months_is_kept(sim: Simulator, okx: RawOkx) -> None:
    old = [_place(okx, ordType="market"), _place(okx, ordType="post_only", px="3000")]  # filled, canceled
    resting = _place(okx, ordType="post_only", px="2900")
    sim.advance(60 * DAY)
    recent = _place(okx, ordType="market")
    assert [o["ordId"] for o in sim.state()["orders"]] == [*old, resting, recent]
    sim.advance(32 * DAY + 1)
    state = sim.state()
    assert [o["ordId"] for o in state["orders"]] == [resting, recent]
    assert [f["ordId"] for f in state["fills"]] == [recent]
    assert _ids(okx, ARCHIVE) == [recent]
    assert _ids(okx, FILLS_HISTORY, "ordId") == [recent]


def test_orders_history_pages_by_ord_id_and_filters_by_c_time(sim: Simulator, okx: RawOkx) -> None:
    ids = []
    for _ in range(5):
        ids.append(_place(okx, ordType="market"))
        sim.advance(1)
    c_times = [(_found(okx, i) or {})["cTime"] for i in ids]
    for endpoint in (HISTORY, ARCHIVE):
        assert _ids(okx, endpoint) == ids[::-1]
        assert _ids(okx, f"{endpoint}&after={ids[3]}&limit=2") == [ids[2], ids[1]]
        assert _ids(okx, f"{endpoint}&before={ids[1]}&limit=2") == [ids[3], ids[2]]
        assert _ids(okx, f"{endpoint}&before={ids[0]}&after={ids[4]}") == [ids[3], ids[2], ids[1]]
        assert _ids(okx, f"{endpoint}&begin={c_times[1]}&end={c_times[3]}") == [ids[3], ids[2], ids[1]]
        assert _ids(okx, f"{endpoint}&limit=1") == [ids[4]]
        sim.advance(2)  # a fresh rate window for the next endpoint


def test_orders_history_filters_and_refusals(okx: RawOkx) -> None:
    filled = _place(okx, ordType="market")
    canceled = _place(okx, ordType="post_only", px="3000")  # crosses: canceled with cancelSource 31
    for endpoint in (HISTORY, ARCHIVE):
        assert _ids(okx, endpoint) == [canceled, filled]
        assert _ids(okx, f"{endpoint}&state=filled") == [filled]
        assert _ids(okx, f"{endpoint}&state=canceled&ordType=post_only") == [canceled]
        assert _ids(okx, f"{endpoint}&ordType=limit") == []
        assert _ids(okx, f"{endpoint}&instId=BTC-USDT-SWAP") == []
        assert _ids(okx, f"{endpoint.replace('SWAP', 'SPOT')}") == []
        path = endpoint.split("?")[0]
        for target in (path, f"{endpoint}&state=live", f"{endpoint}&after=x", path + "?instType=SWAPS"):
            response = okx.send("GET", target)
            assert (response.status_code, response.json()["code"]) == (400, "51000"), target


def test_fills_and_fills_history_page_by_bill_id_and_filter_by_ts(sim: Simulator, okx: RawOkx) -> None:
    for _ in range(5):
        _place(okx, ordType="market")
        sim.advance(1)
    bills = _ids(okx, FILLS, "billId")
    stamps = [f["ts"] for f in okx.get(FILLS)["data"]]
    assert len(bills) == 5 and bills == sorted(bills, reverse=True)
    for endpoint in (FILLS + "?instType=SWAP", FILLS_HISTORY):
        assert _ids(okx, endpoint, "billId") == bills
        assert _ids(okx, f"{endpoint}&after={bills[1]}&limit=2", "billId") == bills[2:4]
        assert _ids(okx, f"{endpoint}&before={bills[3]}&limit=2", "billId") == bills[1:3]
        assert _ids(okx, f"{endpoint}&begin={stamps[3]}&end={stamps[1]}", "billId") == bills[1:4]
        sim.advance(2)


def test_archive_and_price_limit_have_their_own_rate_limits(sim: Simulator, okx: RawOkx) -> None:
    for target in (ARCHIVE, f"/api/v5/public/price-limit?instId={ETH}"):
        assert {okx.send("GET", target).status_code for _ in range(20)} == {200}
        assert okx.send("GET", target).status_code == 429
    assert okx.send("GET", HISTORY).status_code == 200


@pytest.mark.parametrize("resting", [False, True])
def test_a_still_market_reads_the_same_however_the_clock_moves(resting: bool) -> None:
    """Idle stretches of a still market are skipped; stepping every second reads the same."""

    def run(chunks: list[int]) -> list[Any]:
        with Simulator(seed=3, volatility="0", fill_ratio="0.0001") as sim:
            okx = RawOkx(sim)
            if resting:  # within reach for 50 minutes: 0.01 of its 30 contracts fill each second
                assert okx.place(**BUY, ordType="post_only", px="2990", sz="30")["data"][0]["sCode"] == "0"
                _place(okx, ordType="post_only", px="2000")  # never within reach
                sim.set_price("2989.5")
            for seconds in chunks:
                sim.advance(seconds)
            state = sim.state()
            return [
                okx.get(f"/api/v5/market/candles?instId={inst}&bar={bar}&limit=300")["data"]
                for inst in (ETH, "BTC-USDT-SWAP")
                for bar in ("1m", "1H")
            ] + [okx.get(f"/api/v5/market/ticker?instId={ETH}")["data"], state["orders"], state["fills"]]

    assert run([2 * HOUR]) == run([1, 59, 3599, 3541]) == run([7] * 1028 + [4])


def test_three_months_of_an_idle_still_market_are_one_step(
    sim: Simulator, okx: RawOkx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing rests within reach of a still market: the stretch is skipped to its last second, so the
    work does not grow with the time passed (counted in steps, never timed)."""
    steps: Counter[str] = Counter()
    step = PricePath.step

    def counted(path: PricePath, t_ms: int) -> tuple[int, int]:
        steps[path.inst.inst_id] += 1
        return step(path, t_ms)

    monkeypatch.setattr(PricePath, "step", counted)
    sim.advance(92 * DAY)
    assert steps == {ETH: 1, "BTC-USDT-SWAP": 1}
    assert okx.get(f"/api/v5/market/ticker?instId={ETH}")["data"][0]["last"] == "3000"
