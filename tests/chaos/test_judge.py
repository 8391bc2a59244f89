"""The chaos judge on hand-made venue records: each invariant catches its violation, and only that."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.chaos_lib.judge import (
    Violations,
    check_duplicates,
    check_exposure,
    check_lost_fills,
    check_rungs,
    check_stuck,
)
from bench.chaos_lib.records import Journal, VenueLedger
from fsm.spec.limits import Limits


def order(ord_id: str, cl: str, state: str, c_time: int, u_time: int | None = None) -> dict[str, Any]:
    return {
        "ordId": ord_id,
        "clOrdId": cl,
        "state": state,
        "cTime": str(c_time),
        "uTime": str(u_time or c_time),
    }


def fill(trade_id: str, cl: str, side: str = "buy", sz: str = "0.33") -> dict[str, Any]:
    return {
        "tradeId": trade_id,
        "clOrdId": cl,
        "side": side,
        "fillSz": sz,
        "fillPx": "2990",
        "ts": "1",
        "instId": "ETH-USDT-SWAP",
    }


def ledger(
    orders: list[dict[str, Any]], fills: Sequence[dict[str, Any]] = (), positions: Sequence[Any] = ()
) -> VenueLedger:
    led = VenueLedger()
    led.observe({"orders": orders, "fills": list(fills), "positions": list(positions)})
    return led


def test_a_clordid_reused_after_the_first_order_ended_is_a_duplicate_but_not_overlapping() -> None:
    v = Violations()
    check_duplicates(
        ledger([order("1", "ertw1r1a0", "canceled", 10, 20), order("2", "ertw1r1a0", "live", 30)]), v
    )
    assert list(v.duplicates) == ["ertw1r1a0"] and v.overlapping == {}


def test_two_orders_of_one_clordid_alive_at_once_overlap() -> None:
    v = Violations()
    check_duplicates(
        ledger([order("1", "ertw1r1a0", "filled", 10, 50), order("2", "ertw1r1a0", "live", 30)]), v
    )
    assert list(v.overlapping) == ["ertw1r1a0"]
    v = Violations()
    check_duplicates(ledger([order("1", "ertw1r2a0", "live", 10), order("2", "hand1", "live", 10)]), v)
    assert v.duplicates == {}


def test_a_venue_fill_of_ours_missing_from_the_journal_is_lost_and_named_exit_or_entry(
    tmp_path: Path,
) -> None:
    (tmp_path / "eth_robust_twap_15m_live.jsonl").write_text(
        '{"kind":"fill","data":{"tradeId":"t1"}}\n{"torn'
    )
    journal = Journal.read(tmp_path)
    assert journal.unparsable == 1
    v = Violations()
    led = ledger([], [fill("t1", "ertw1r1a0"), fill("t2", "ertw1r0a0", "sell"), fill("t3", "hand1")])
    check_lost_fills(led, journal, v)
    assert list(v.lost_fills) == ["t2"] and v.lost_fills["t2"].startswith("exit fill")


def test_terminal_rungs_are_checked_against_pending_orders_and_rejections_against_any_order() -> None:
    led = ledger([order("1", "ertw1r1a0", "live", 1), order("2", "ertw1r2a0", "canceled", 1, 2)])
    found: dict[str, str] = {}
    rungs = [
        {"clOrdId": "ertw1r1a0", "state": "canceled"},  # OKX still shows it live
        {"clOrdId": "ertw1r2a0", "state": "rejected"},  # OKX has an order for it
        {"clOrdId": "ertw1r3a0", "state": "rejected"},  # OKX never saw it: a true rejection
    ]
    check_rungs(rungs, led, "here", found)
    assert sorted(found) == ["ertw1r1a0", "ertw1r2a0"]


def test_idle_with_a_resting_order_or_a_position_beyond_the_hand_trades_is_stuck() -> None:
    pos = [{"instId": "ETH-USDT-SWAP", "posSide": "long", "pos": "0.05"}]
    v = Violations()
    check_stuck({"state": "idle"}, ledger([], [fill("h", "hand1", sz="0.05")], pos), v)
    assert v.stuck == {}
    v = Violations()
    led = ledger([order("1", "ertw1r1a0", "live", 1)], [fill("h", "hand1", sz="0.02")], pos)
    check_stuck({"state": "idle"}, led, v)
    assert sorted(v.stuck) == ["ertw1r1a0", "position"]
    v = Violations()
    check_stuck({"state": "cancelling", "rungs": []}, ledger([]), v)
    assert "still in cancelling" in v.stuck["state"]


def test_a_stop_childs_fill_missing_from_the_journal_is_lost_and_a_live_stop_after_the_settle_is_stuck(
    tmp_path: Path,
) -> None:
    (tmp_path / "eth_robust_twap_15m_live.jsonl").write_text('{"kind":"fill","data":{"tradeId":"t1"}}\n')
    child = {**order("7", "", "filled", 5), "algoClOrdId": "ertw1s0"}  # the order our stop placed
    foreign = {**order("8", "", "filled", 5), "algoClOrdId": "other1s0"}
    fills = [{**fill("t2", "", "sell"), "ordId": "7"}, {**fill("t3", "", "sell"), "ordId": "8"}]
    v = Violations()
    check_lost_fills(ledger([child, foreign], fills), Journal.read(tmp_path), v)
    assert list(v.lost_fills) == ["t2"] and v.lost_fills["t2"].startswith("stop child 7 fill")
    led = VenueLedger()
    live = [
        {"algoId": "1", "algoClOrdId": "ertw1s1", "state": "live"},
        {"algoId": "2", "algoClOrdId": "ertw1s0", "state": "canceled"},
    ]
    led.observe({"orders": [], "fills": [], "positions": [], "algos": live})
    v = Violations()
    check_stuck({"state": "idle"}, led, v)
    assert list(v.stuck) == ["ertw1s1"]


def test_the_accounts_exposure_of_our_orders_is_judged_against_the_limits_per_instrument_and_in_total() -> (
    None
):
    eth = VenueLedger(prefix="ertw")
    btc = VenueLedger(prefix="brtw", symbol="BTC-USDT-SWAP")
    working = {**order("1", "ertw1r1a0", "live", 1), "sz": "3", "accFillSz": "1", "px": "3000"}
    working |= {"side": "buy", "posSide": "long", "instId": "ETH-USDT-SWAP"}
    exit_ = {**working, "ordId": "2", "clOrdId": "ertw1r0a0", "side": "sell", "reduceOnly": "true"}
    hand = {**working, "ordId": "3", "clOrdId": "hand1", "sz": "100"}
    bought = [fill("t1", "ertw1r1a0", sz="1"), fill("t2", "hand1", sz="50")]  # 1 x 0.1 x 2990 = 299
    eth.observe({"orders": [working, exit_, hand], "fills": bought, "positions": []})
    big = {**working, "ordId": "4", "clOrdId": "brtw1r1a0", "sz": "0.4", "accFillSz": "0", "px": "90000"}
    btc.observe({"orders": [big | {"instId": "BTC-USDT-SWAP"}], "fills": [], "positions": []})
    ct = {"ETH-USDT-SWAP": Decimal("0.1"), "BTC-USDT-SWAP": Decimal("0.01")}
    # ETH: 299 held + 2 x 0.1 x 3000 working = 899 (the exit and the hand's order are not ours to count);
    # BTC: 0.4 x 0.01 x 90000 = 360; in all 1259.
    v = Violations()
    check_exposure([eth, btc], Limits(max_open_notional=Decimal(1259)), ct, "t", v)
    assert v.over_limit == {}
    check_exposure([eth, btc], Limits(max_open_notional=Decimal(900)), ct, "t", v)
    assert sorted(v.over_limit) == ["total:t"]
    v = Violations()
    check_exposure(
        [eth, btc], Limits(max_open_notional=Decimal(898), max_order_notional=Decimal(900)), ct, "t", v
    )
    assert sorted(v.over_limit) == ["ETH-USDT-SWAP:t", "total:t"]
    v = Violations()
    check_exposure([eth, btc], Limits(max_order_notional=Decimal(899)), ct, "t", v)
    assert list(v.over_limit) == ["ertw1r1a0"]  # 3 x 0.1 x 3000 = 900, its fill included
