"""DESIGN.md's eight ladder paths, each driven through the real CLI against the simulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exchange import OkxClient, OkxOrderAck
from fsm.engine.machine import load_machine
from fsm.engine.tick import open_machine_state, run_tick
from fsm.engine.view import ExchangeView
from tests.cli.conftest import BAR_S, CEILING_S, Cli

pytestmark = pytest.mark.e2e


def test_happy_path_fills_holds_closes_and_returns_to_idle(cli: Cli) -> None:
    h = cli
    h.signal()
    doc = h.tick(submit=True)
    assert doc["tick"]["fired"][0]["dest"] == "intent_rendered"
    assert doc["state"] == "entries_open"
    assert [r["state"] for r in doc["rungs"]] == ["live", "live", "live"]
    px = h.rung_prices(doc)
    assert px[0] > px[1] > px[2]

    h.sim.set_price(str(px[0] - 1))  # trades through rung 1 only
    h.sim.advance(5)
    doc = h.tick(submit=True)
    assert doc["state"] == "partially_filled"
    h.sim.set_price(str(px[2] - 1))
    for _ in range(6):  # partial fills are bounded per step; let the book work
        h.sim.advance(60)
    doc = h.tick(submit=True)
    assert doc["state"] == "filled"
    assert [r["state"] for r in doc["rungs"]] == ["filled"] * 3
    assert Decimal(doc["position"]["pos"]) == sum(Decimal(r["sz"]) for r in doc["rungs"])
    assert sum(Decimal(f["fillSz"]) for f in doc["fills"]) == Decimal(doc["filled_sz"])

    h.sim.advance(BAR_S * 9)  # hold time is up
    doc = h.tick(submit=True)
    assert doc["close_request"]["outcome"] == "accepted"
    doc = h.tick(submit=True)
    assert doc["state"] == "closed"
    doc = h.tick(submit=True)
    assert doc["state"] == "idle" and doc["rungs"] == [] and doc["cycles_completed"] == 1

    assert h.transitions() == [
        ("idle", "intent_rendered"),
        ("intent_rendered", "entries_open"),
        ("entries_open", "partially_filled"),
        ("partially_filled", "partially_filled"),  # the stop placed with the first fill
        ("partially_filled", "filled"),
        ("filled", "filled"),  # the stop resized to the whole size
        ("filled", "filled"),  # the stop cancelled before the exit
        ("filled", "filled"),  # the exit
        ("filled", "closed"),
        ("closed", "idle"),
    ]
    kinds = set(h.kinds())
    assert {"intent", "submit", "order", "fill", "transition", "archive", "ack"} <= kinds
    assert h.sim.state()["positions"] == [] or all(Decimal(p["pos"]) == 0 for p in h.sim.state()["positions"])
    h.assert_exchange_agrees()
    h.verify_log()


def test_read_only_tick_renders_intent_and_never_posts(cli: Cli) -> None:
    h = cli
    h.signal()
    doc = h.tick()
    assert doc["state"] == "intent_rendered"
    assert len(doc["rungs"]) == 3 and all(r["state"] == "rendered" for r in doc["rungs"])
    for _ in range(3):
        h.sim.advance(60)
        assert h.tick()["state"] == "intent_rendered"
    assert h.posts() == 0
    assert h.sim_orders() == []


# ---- helpers shared by the paths below ---------------------------------------------------------

TRADE = "/api/v5/trade"
REPO = Path(__file__).resolve().parents[2]


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    """Bounded polling on loopback state: a generous ceiling, never a budget."""
    give_up = time.monotonic() + CEILING_S
    while not predicate():
        if time.monotonic() > give_up:
            raise AssertionError(f"not met within {CEILING_S:.0f} s: {what}")
        time.sleep(0.01)


def submitted_client_order_ids(h: Cli) -> list[str]:
    """Every clOrdId our entry POSTs carried, from the simulator's own order records."""
    return [o["clOrdId"] for o in h.sim_orders() if o["clOrdId"].startswith("ertw")]


def open_entries(h: Cli) -> list[Decimal]:
    """A signal, then one armed tick: three live rungs. Returns their prices (rung 1 highest)."""
    h.signal()
    doc = h.tick(submit=True)
    assert doc["state"] == "entries_open"
    assert [r["state"] for r in doc["rungs"]] == ["live", "live", "live"]
    return h.rung_prices(doc)


def keep_away(h: Cli, px: list[Decimal]) -> None:
    """Trade the market well above rung 1 so the random walk cannot reach a rung."""
    h.sim.set_price(str(px[0] + 40))


def expire(h: Cli, px: list[Decimal]) -> None:
    """Let the entry window pass (signal candle close + expiry_bars) with the market above the rungs."""
    keep_away(h, px)
    h.sim.advance(BAR_S * 4 + 5)  # not at the exact boundary: exchange time is estimated to the ms


def fill_rung_fully(h: Cli, px: Decimal) -> None:
    """Trade below `px` long enough for a resting buy there to fill completely (partials per step)."""
    h.sim.set_price(str(px - 3))
    h.sim.advance(5)


def rung_states(doc: dict[str, Any]) -> list[str]:
    return [r["state"] for r in doc["rungs"]]


def flat(h: Cli) -> bool:
    return all(Decimal(p["pos"]) == 0 for p in h.sim.state()["positions"])


def mirrored_pos(doc: dict[str, Any]) -> Decimal:
    """The position size the state mirrors from OKX (no mirror: nothing was ever held)."""
    return Decimal("0") if doc["position"] is None else Decimal(doc["position"]["pos"])


def return_to_idle(h: Cli) -> None:
    """A read-only tick after `closed`: the archived cycle gives way to idle.

    A candle that closed during the cycle may give a new signal in the same tick; read-only, that new
    intent is only rendered, never sent.
    """
    doc = h.tick()
    first = doc["tick"]["fired"][0]
    assert (first["source"], first["dest"]) == ("closed", "idle")
    assert doc["cycles_completed"] == 1


def cycle_transitions(h: Cli) -> list[tuple[str, str]]:
    """The journaled transitions of the first cycle, up to its return to idle."""
    moves = h.transitions()
    return moves[: moves.index(("closed", "idle")) + 1]


def order_moves(h: Cli, **match: str) -> list[dict[str, Any]]:
    """The journaled rung transitions (order records with from/to), filtered by equal fields."""
    moves = [r["data"] for r in h.journal() if r["kind"] == "order" and "to" in r["data"]]
    return [m for m in moves if all(m.get(k) == v for k, v in match.items())]


def assert_clean_record(h: Cli) -> None:
    """No anomaly journaled, no clOrdId sent twice, every fill of ours journaled, the chain intact."""
    assert "anomaly" not in h.kinds()
    h.assert_exchange_agrees()
    h.verify_log()


def post_count(h: Cli, path: str) -> int:
    return int(h.sim.stats()["requests"].get(f"POST {TRADE}/{path}", 0))


# ---- 2. expiry with no fill ---------------------------------------------------------------------


def test_expiry_without_fill_cancels_every_rung_and_closes_flat(cli: Cli) -> None:
    h = cli
    px = open_entries(h)
    expire(h, px)
    doc = h.tick(submit=True)
    assert doc["state"] == "cancelling"
    assert rung_states(doc) == ["cancelling"] * 3
    assert post_count(h, "cancel-batch-orders") == 1
    doc = h.tick(submit=True)
    assert doc["state"] == "closed"
    assert rung_states(doc) == ["canceled"] * 3
    assert all(r["cancelSource"] == "1" for r in doc["rungs"])
    assert doc["fills"] == [] and doc["filled_sz"] == "0" and mirrored_pos(doc) == 0
    return_to_idle(h)

    assert cycle_transitions(h) == [
        ("idle", "intent_rendered"),
        ("intent_rendered", "entries_open"),
        ("entries_open", "cancelling"),
        ("cancelling", "closed"),
        ("closed", "idle"),
    ]
    assert {"intent", "submit", "cancel", "ack", "order", "archive"} <= set(h.kinds())
    assert "fill" not in h.kinds()
    assert post_count(h, "cancel-batch-orders") == 1 and post_count(h, "close-position") == 0
    assert flat(h)
    assert_clean_record(h)


# ---- 3. expiry after partial fills --------------------------------------------------------------


def test_expiry_after_partial_fill_cancels_remainder_holds_then_closes(cli: Cli) -> None:
    h = cli
    px = open_entries(h)
    h.sim.set_price(str(px[0] - 1))  # one step through rung 1: a partial fill (bounded per step)
    keep_away(h, px)
    doc = h.tick(submit=True)
    assert doc["state"] == "partially_filled"
    assert rung_states(doc) == ["partially_filled", "live", "live"]
    partial = Decimal(doc["rungs"][0]["accFillSz"])
    assert 0 < partial < Decimal(doc["rungs"][0]["sz"])

    expire(h, px)
    doc = h.tick(submit=True)
    assert doc["state"] == "cancelling"
    doc = h.tick(submit=True)
    assert doc["state"] == "filled"
    assert rung_states(doc) == ["canceled"] * 3
    assert Decimal(doc["rungs"][0]["accFillSz"]) == partial  # the fill before the cancel is kept
    assert sum(Decimal(f["fillSz"]) for f in doc["fills"]) == partial == Decimal(doc["filled_sz"])
    assert {f["clOrdId"] for f in doc["fills"]} == {doc["rungs"][0]["clOrdId"]}
    assert mirrored_pos(doc) == partial

    h.sim.advance(BAR_S * 4)  # the rest of the hold time (hold_bars 8 from the entry start)
    doc = h.tick(submit=True)
    assert doc["state"] == "filled" and doc["close_request"]["outcome"] == "accepted"
    doc = h.tick(submit=True)
    assert doc["state"] == "closed" and mirrored_pos(doc) == 0
    return_to_idle(h)

    assert cycle_transitions(h) == [
        ("idle", "intent_rendered"),
        ("intent_rendered", "entries_open"),
        ("entries_open", "partially_filled"),
        ("partially_filled", "partially_filled"),  # the stop placed with the first fill
        ("partially_filled", "cancelling"),
        ("cancelling", "filled"),
        ("filled", "filled"),  # the stop cancelled before the exit
        ("filled", "filled"),  # the exit
        ("filled", "closed"),
        ("closed", "idle"),
    ]
    assert {"intent", "submit", "order", "fill", "cancel", "ack", "archive"} <= set(h.kinds())
    assert post_count(h, "cancel-batch-orders") == 1 and post_count(h, "close-position") == 0
    assert exits(h) == [("sell", partial, "true")]  # one reduce-only market sell of exactly our fills
    assert flat(h)
    assert_clean_record(h)


# ---- 4. cancel race -----------------------------------------------------------------------------


def test_rung_filled_while_its_cancel_is_in_flight_keeps_the_fill(cli: Cli) -> None:
    """The simulator holds the cancel batch, outside its lock, until its clock has moved 10 s: while it
    waits, the market trades through rung 1, so OKX answers that rung 51400 (already filled)."""
    h = cli
    px = open_entries(h)
    expire(h, px)
    held = {"kind": "latency_ms", "ms": 10_000, "clock": "sim"}
    h.sim.set_faults([{"endpoint": f"POST {TRADE}/cancel-batch-orders", **held}])
    with ThreadPoolExecutor(max_workers=1) as pool:
        ticking = pool.submit(h.tick, submit=True)
        wait_until(lambda: post_count(h, "cancel-batch-orders") == 1, "the cancel batch to arrive")
        fill_rung_fully(h, px[0])  # lands while the cancel is held (5 s of its 10)
        keep_away(h, px)
        h.sim.advance(5)  # the cancel goes through
        doc = ticking.result(timeout=CEILING_S)
    assert doc["state"] == "cancelling"
    cancel_ack = [r["data"] for r in h.journal() if r["kind"] == "ack" and r["data"]["what"] == "cancel"][-1]
    assert [a["sCode"] for a in cancel_ack["acks"]] == ["51400", "0", "0"]

    doc = h.tick(submit=True)
    assert doc["state"] == "filled"
    assert rung_states(doc) == ["filled", "canceled", "canceled"]
    rung1 = doc["rungs"][0]
    assert Decimal(rung1["accFillSz"]) == Decimal(rung1["sz"]) == mirrored_pos(doc)
    assert sum(Decimal(f["fillSz"]) for f in doc["fills"]) == Decimal(rung1["sz"])

    h.sim.advance(BAR_S * 4)
    assert h.tick(submit=True)["close_request"]["outcome"] == "accepted"
    assert h.tick(submit=True)["state"] == "closed"
    return_to_idle(h)
    assert cycle_transitions(h) == [
        ("idle", "intent_rendered"),
        ("intent_rendered", "entries_open"),
        ("entries_open", "cancelling"),
        ("cancelling", "filled"),
        ("filled", "filled"),  # the stop placed with the (first) fill the cancel race kept
        ("filled", "filled"),  # the stop cancelled before the exit
        ("filled", "filled"),  # the exit
        ("filled", "closed"),
        ("closed", "idle"),
    ]
    assert [m["from"] for m in order_moves(h, clOrdId=rung1["clOrdId"], to="filled")] == ["cancelling"]
    assert flat(h)
    assert_clean_record(h)


# ---- 5. outside hands ---------------------------------------------------------------------------


def test_rungs_cancelled_in_the_okx_app_close_the_cycle_without_fills(cli: Cli) -> None:
    h = cli
    px = open_entries(h)
    keep_away(h, px)
    for rung in h.status()["rungs"]:
        h.sim.user_cancel(client_order_id=rung["clOrdId"])
    doc = h.tick(submit=True)
    assert doc["state"] == "closed"
    assert rung_states(doc) == ["canceled"] * 3
    assert all(r["cancelSource"] == "1" for r in doc["rungs"])
    assert doc["fills"] == [] and doc["filled_sz"] == "0" and mirrored_pos(doc) == 0
    return_to_idle(h)

    assert cycle_transitions(h) == [
        ("idle", "intent_rendered"),
        ("intent_rendered", "entries_open"),
        ("entries_open", "closed"),
        ("closed", "idle"),
    ]
    assert "cancel" not in h.kinds() and "fill" not in h.kinds()
    assert post_count(h, "cancel-batch-orders") == 0 and post_count(h, "close-position") == 0
    assert_clean_record(h)


def test_position_closed_by_hand_closes_the_cycle_without_our_close(cli: Cli) -> None:
    h = cli
    px = open_entries(h)
    fill_rung_fully(h, px[2])  # trades through every rung
    doc = h.tick(submit=True)
    assert doc["state"] == "filled"
    assert rung_states(doc) == ["filled"] * 3
    held = sum(Decimal(r["sz"]) for r in doc["rungs"])
    assert mirrored_pos(doc) == held == Decimal(doc["filled_sz"])

    h.sim.user_close("ETH-USDT-SWAP", "long")  # before the hold time is up
    doc = h.tick(submit=True)
    assert doc["state"] == "closed"
    assert mirrored_pos(doc) == 0 and doc["close_request"] is None
    assert sum(Decimal(f["fillSz"]) for f in doc["fills"]) == held
    return_to_idle(h)

    assert cycle_transitions(h) == [
        ("idle", "intent_rendered"),
        ("intent_rendered", "entries_open"),
        ("entries_open", "partially_filled"),
        ("partially_filled", "filled"),
        ("filled", "filled"),  # the stop placed with the fills
        ("filled", "filled"),  # nothing of ours left to protect: the stop cancelled
        ("filled", "closed"),
        ("closed", "idle"),
    ]
    position_records = [r["data"]["position"]["pos"] for r in h.journal() if "position" in r["data"]]
    assert position_records[-1] == "0"  # the flat position is journaled as exchange evidence
    anomalies = [r["data"] for r in h.journal() if r["kind"] == "anomaly"]
    assert [(a["observation"], a["own"], a["okx"]) for a in anomalies] == [("position_short", str(held), "0")]
    assert post_count(h, "close-position") == 0 and post_count(h, "order") == 0
    assert flat(h)
    h.assert_exchange_agrees()
    h.verify_log()


# ---- 6. post-only would cross -------------------------------------------------------------------


def test_post_only_rung_that_would_cross_ends_rejected_post_only_and_others_go_on(cli: Cli) -> None:
    h = cli
    h.signal()
    doc = h.tick()  # read-only: the intent is rendered, nothing sent
    assert doc["state"] == "intent_rendered"
    px = h.rung_prices(doc)
    h.sim.set_price(str(px[0] - 2))  # below rung 1, above rung 2: rung 1 would take liquidity
    doc = h.tick(submit=True)
    assert doc["state"] == "entries_open"
    assert rung_states(doc) == ["live", "live", "live"]  # OKX accepted all three
    doc = h.tick(submit=True)
    assert doc["state"] == "entries_open"
    assert rung_states(doc) == ["rejected_post_only", "live", "live"]
    assert doc["rungs"][0]["cancelSource"] == "31" and doc["rungs"][0]["accFillSz"] == "0"

    fill_rung_fully(h, px[1])  # the others go on: rung 2 fills
    keep_away(h, px)
    doc = h.tick(submit=True)
    assert doc["state"] == "partially_filled"
    assert rung_states(doc) == ["rejected_post_only", "filled", "live"]
    assert {f["clOrdId"] for f in doc["fills"]} == {doc["rungs"][1]["clOrdId"]}
    assert mirrored_pos(doc) == Decimal(doc["rungs"][1]["sz"])

    assert h.transitions() == [
        ("idle", "intent_rendered"),
        ("intent_rendered", "entries_open"),
        ("entries_open", "partially_filled"),
        ("partially_filled", "partially_filled"),  # the stop placed with the first fill
    ]
    post_only = order_moves(h, to="rejected_post_only")
    assert len(post_only) == 1 and post_only[0]["observation"] == "seen_canceled_post_only"
    assert post_count(h, "batch-orders") == 1
    assert_clean_record(h)


# ---- 7. crash and restart -----------------------------------------------------------------------


def test_ambiguous_submit_is_resolved_by_clordid_without_resubmitting(cli: Cli) -> None:
    h = cli
    h.signal()
    h.sim.set_faults([{"endpoint": f"POST {TRADE}/batch-orders", "kind": "drop_after_apply"}])
    doc = h.tick(submit=True)
    assert doc["state"] == "entries_open"
    assert rung_states(doc) == ["unknown"] * 3  # the connection broke after OKX applied the batch
    assert len(h.sim_orders()) == 3

    doc = h.tick(submit=True)
    assert doc["state"] == "entries_open"
    assert rung_states(doc) == ["live"] * 3
    assert [r["ordId"] for r in doc["rungs"]] == [o["ordId"] for o in h.sim_orders()]
    h.sim.advance(60)
    assert rung_states(h.tick(submit=True)) == ["live"] * 3

    assert post_count(h, "batch-orders") == 1
    assert sorted(submitted_client_order_ids(h)) == sorted(r["clOrdId"] for r in doc["rungs"])
    resolved = order_moves(h, **{"from": "unknown"})
    assert [(o["observation"], o["to"]) for o in resolved] == [("seen_live", "live")] * 3
    assert h.transitions() == [("idle", "intent_rendered"), ("intent_rendered", "entries_open")]
    assert_clean_record(h)


def test_killed_runner_mid_submit_restarts_and_finds_rungs_by_clordid(cli: Cli) -> None:
    """A real crash: the CLI is SIGKILLed while its batch-orders POST is in flight (held on the venue
    until its clock moves a second, within the expTime window); OKX applies it anyway. The restart
    finds the three orders by clOrdId and sends nothing twice."""
    h = cli
    h.signal()
    held = {"kind": "latency_ms", "ms": 1000, "clock": "sim"}
    h.sim.set_faults([{"endpoint": f"POST {TRADE}/batch-orders", **held}])
    runner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from fsm.cli.app import main; main()",
            "tick",
            "eth_robust_twap_15m",
            "--submit",
            "--state-dir",
            str(h.state_dir),
            "--json",
        ],
        cwd=REPO,
        env={**os.environ, **h.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: post_count(h, "batch-orders") == 1, "the batch-orders POST to arrive")
        assert "submit" in h.kinds()  # the write-ahead record precedes the POST
    finally:
        runner.kill()
        runner.wait(timeout=CEILING_S)
    assert runner.returncode == -signal.SIGKILL
    crashed = h.status()
    assert crashed["state"] == "intent_rendered" and rung_states(crashed) == ["submitting"] * 3
    assert h.sim_orders() == []  # still held on the venue
    h.sim.advance(1)
    wait_until(lambda: len(h.sim_orders()) == 3, "the in-flight batch to be applied")

    doc = h.tick(submit=True)
    assert doc["state"] == "entries_open"
    assert rung_states(doc) == ["live"] * 3
    assert [r["ordId"] for r in doc["rungs"]] == [o["ordId"] for o in h.sim_orders()]
    assert post_count(h, "batch-orders") == 1
    assert sorted(submitted_client_order_ids(h)) == sorted(r["clOrdId"] for r in doc["rungs"])
    found = order_moves(h, **{"from": "submitting"})
    assert [(o["observation"], o["to"]) for o in found] == [("seen_live", "live")] * 3
    assert h.transitions() == [("idle", "intent_rendered"), ("intent_rendered", "entries_open")]
    assert_clean_record(h)


class CrashBeforeSend(BaseException):
    """Stands in for the process dying between the write-ahead record and the POST."""


@dataclass
class CrashingTrader:
    """An armed client that dies in `crash_in` (a TradingClient method) before anything is sent."""

    client: OkxClient
    crash_in: str

    def _check(self, method: str) -> None:
        if method == self.crash_in:
            raise CrashBeforeSend

    def place_batch_orders(
        self, symbol: str, payloads: Any, exp_time_ms: int | None = None
    ) -> list[OkxOrderAck]:
        self._check("place_batch_orders")
        return self.client.place_batch_orders(symbol, payloads, exp_time_ms=exp_time_ms)

    def place_order(self, symbol: str, **kwargs: Any) -> OkxOrderAck:
        self._check("place_order")
        return self.client.place_order(symbol, **kwargs)

    def cancel_batch_orders(self, symbol: str, order_ids: Any) -> list[OkxOrderAck]:
        self._check("cancel_batch_orders")
        return self.client.cancel_batch_orders(symbol, order_ids)

    def set_leverage(
        self, symbol: str, lever: Decimal, mgn_mode: str, pos_side: str | None = None
    ) -> Mapping[str, str]:
        self._check("set_leverage")
        return self.client.set_leverage(symbol, lever, mgn_mode, pos_side)

    def place_algo_order(self, payload: Mapping[str, Any]) -> OkxOrderAck:
        self._check("place_algo_order")
        return self.client.place_algo_order(payload)

    def amend_algo_order(self, symbol: str, **kwargs: Any) -> OkxOrderAck:
        self._check("amend_algo_order")
        return self.client.amend_algo_order(symbol, **kwargs)

    def cancel_algo_orders(self, symbol: str, algo_ids: Any) -> list[OkxOrderAck]:
        self._check("cancel_algo_orders")
        return self.client.cancel_algo_orders(symbol, algo_ids)


def crash_in_process(h: Cli, crash_in: str) -> None:
    """One armed tick, run in-process, whose process 'dies' in `crash_in` after the write-ahead record."""
    machine = load_machine("eth_robust_twap_15m", state_dir=h.state_dir)
    client = OkxClient(
        h.sim.api_key, h.sim.secret_key, h.sim.passphrase, base_url=h.sim.base_url, demo=True, armed=True
    )
    with pytest.raises(CrashBeforeSend), open_machine_state(machine) as (store, state):
        run_tick(machine, store, state, ExchangeView(client), trader=CrashingTrader(client, crash_in))


def test_crash_after_write_ahead_before_post_submits_exactly_once_on_restart(cli: Cli) -> None:
    """In-process: no outside observer can time a crash between the fsynced submit record and the
    POST, so the tick runs with a trader that dies right there."""
    h = cli
    h.signal()
    crash_in_process(h, "place_batch_orders")
    crashed = h.status()
    assert crashed["state"] == "intent_rendered" and rung_states(crashed) == ["submitting"] * 3
    assert h.kinds()[-1] == "submit" and post_count(h, "batch-orders") == 0

    doc = h.tick(submit=True)  # within the request's expTime: OKX could still apply it, so nothing is sent
    assert rung_states(doc) == ["submitting"] * 3 and post_count(h, "batch-orders") == 0
    h.sim.advance(7)  # past the deadline: "does not exist" is now final
    doc = h.tick(submit=True)
    assert doc["state"] == "entries_open"
    assert rung_states(doc) == ["live"] * 3
    assert post_count(h, "batch-orders") == 1
    assert sorted(submitted_client_order_ids(h)) == sorted(r["clOrdId"] for r in doc["rungs"])
    back = order_moves(h, **{"from": "submitting"})
    assert [(o["observation"], o["to"]) for o in back] == [("not_found", "rendered")] * 3 + [
        ("ack_accepted", "live")
    ] * 3
    assert h.transitions() == [("idle", "intent_rendered"), ("intent_rendered", "entries_open")]
    assert_clean_record(h)


def hold_full_position(h: Cli) -> Decimal:
    """Open entries, fill every rung, and let the hold time run out. Returns the position size."""
    px = open_entries(h)
    fill_rung_fully(h, px[2])
    doc = h.tick(submit=True)
    assert doc["state"] == "filled"
    h.sim.advance(BAR_S * 9)
    return mirrored_pos(doc)


def close_orders(h: Cli) -> list[dict[str, Any]]:
    return [o for o in h.sim_orders() if o["ordType"] == "market"]


def exits(h: Cli) -> list[tuple[str, Decimal, str]]:
    """The venue's exit orders of the machine (clOrdId ...r0a<attempt>): side, filled size, reduceOnly."""
    return [
        (o["side"], Decimal(o["accFillSz"]), o["reduceOnly"])
        for o in h.sim_orders()
        if o["clOrdId"].startswith("ertw") and "r0a" in o["clOrdId"]
    ]


@pytest.mark.parametrize("fault", ["drop_before_apply", "drop_after_apply", "crash_before_post"])
def test_unconfirmed_close_is_resolved_by_clordid_and_the_position_closed_once(cli: Cli, fault: str) -> None:
    """An ambiguous close (or a crash after its write-ahead record) is never left hanging: a query by
    its clOrdId tells whether it landed; only a close OKX does not know is sent again."""
    h = cli
    held = hold_full_position(h)
    if fault == "crash_before_post":
        crash_in_process(h, "place_order")
    else:
        h.sim.set_faults([{"endpoint": f"POST {TRADE}/order", "kind": fault}])
        doc = h.tick(submit=True)
        assert doc["state"] == "filled" and doc["close_request"]["outcome"] == "ambiguous"
    landed = fault == "drop_after_apply"
    assert len(close_orders(h)) == (1 if landed else 0)

    h.sim.advance(10)  # past the exit's expTime deadline
    for _ in range(2):  # resolve (and resend if OKX does not know it), then see the position flat
        doc = h.tick(submit=True)
        if doc["state"] == "closed":
            break
    assert doc["state"] == "closed" and mirrored_pos(doc) == 0
    assert flat(h)
    closes = close_orders(h)
    assert len(closes) == 1 and Decimal(closes[0]["accFillSz"]) == held
    assert closes[0]["clOrdId"] == doc["close_request"]["clOrdId"]
    sent = {"drop_before_apply": 2, "drop_after_apply": 1, "crash_before_post": 1}[fault]
    assert post_count(h, "order") == sent and post_count(h, "close-position") == 0
    assert_clean_record(h)


def test_close_refused_with_an_explicit_code_is_sent_again_next_tick(cli: Cli) -> None:
    """A refused close applied nothing: the position must not be left open past the exit."""
    h = cli
    held = hold_full_position(h)
    h.sim.set_faults([{"endpoint": f"POST {TRADE}/order", "kind": "burst_429"}])
    doc = h.tick(submit=True)
    assert doc["state"] == "filled" and doc["close_request"]["outcome"] == "rejected:50011"
    assert close_orders(h) == []

    h.sim.advance(2)
    assert h.tick(submit=True)["close_request"]["outcome"] == "accepted"
    assert h.tick(submit=True)["state"] == "closed"
    closes = close_orders(h)
    assert len(closes) == 1 and Decimal(closes[0]["accFillSz"]) == held
    assert post_count(h, "order") == 2 and post_count(h, "close-position") == 0
    assert flat(h)
    assert_clean_record(h)
