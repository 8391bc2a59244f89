"""The protective stop on OKX (issue 19), driven through the real CLI against the simulator and judged
from the venue's records: its algos, orders, fills and positions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import BAR_S, MACHINE, Cli
from tests.cli.test_ladder_paths import (
    TRADE,
    exits,
    fill_rung_fully,
    flat,
    keep_away,
    open_entries,
    post_count,
    wait_until,
)

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
TICK = Decimal("0.01")


def algos(h: Cli) -> list[dict[str, Any]]:
    """The venue's algo orders of this machine (by its algoClOrdId prefix), oldest first."""
    return [a for a in h.sim.state()["algos"] if a["algoClOrdId"].startswith(h.prefix)]


def venue_fills(h: Cli, side: str | None = None) -> list[dict[str, Any]]:
    """The venue's fills of this machine's orders: its clOrdIds, and the child orders its stops placed."""
    mine = {o["ordId"] for o in h.sim_orders() if o["clOrdId"].startswith(h.prefix)}
    mine |= {o["ordId"] for o in h.sim_orders() if o.get("algoClOrdId", "").startswith(h.prefix)}
    return [f for f in h.sim.state()["fills"] if f["ordId"] in mine and side in (None, f["side"])]


def own_size(h: Cli) -> Decimal:
    """What the machine's own fills on the venue net to (a long ladder)."""
    bought = sum((Decimal(f["fillSz"]) for f in venue_fills(h, "buy")), Decimal(0))
    sold = sum((Decimal(f["fillSz"]) for f in venue_fills(h, "sell")), Decimal(0))
    return bought - sold


def stop_px(h: Cli, loss: str = "0.02") -> Decimal:
    """The stop the machine's own entry fills on the venue call for: average entry x (1 - loss), down."""
    entries = venue_fills(h, "buy")
    size = sum((Decimal(f["fillSz"]) for f in entries), Decimal(0))
    avg = sum((Decimal(f["fillPx"]) * Decimal(f["fillSz"]) for f in entries), Decimal(0)) / size
    return (avg * (1 - Decimal(loss))).quantize(TICK, rounding=ROUND_FLOOR)


def position(h: Cli, pos_side: str = "long") -> Decimal:
    return sum(
        (Decimal(p["pos"]) for p in h.sim.state()["positions"] if p["posSide"] == pos_side), Decimal(0)
    )


def archive(h: Cli) -> dict[str, Any]:
    records: list[dict[str, Any]] = [r["data"] for r in h.journal() if r["kind"] == "archive"]
    assert len(records) == 1, records
    return records[0]


def assert_every_fill_journaled_once(h: Cli) -> None:
    """Every venue fill of ours, a stop's child orders' included, is journaled exactly once; no clOrdId
    or algoClOrdId was sent twice."""
    journaled = [r["data"]["tradeId"] for r in h.journal() if r["kind"] == "fill"]
    assert len(journaled) == len(set(journaled)), "a fill was journaled twice"
    assert {f["tradeId"] for f in venue_fills(h)} == set(journaled)
    ids = [a["algoClOrdId"] for a in algos(h)]
    assert len(ids) == len(set(ids)), f"an algoClOrdId was placed twice: {ids}"
    h.assert_exchange_agrees()
    h.verify_log()


def assert_stop_ended_before_the_exit(h: Cli) -> None:
    """The journal shows OKX's canceled stop before the exit's write-ahead record (one tick may hold
    both: the cancel is read back at once), and the venue cancelled the stop before the exit existed."""
    records = h.journal()
    ended = next(r["seq"] for r in records if r["kind"] == "order" and r["data"].get("to") == "canceled")
    sent = next(r["seq"] for r in records if r["kind"] == "submit" and r["data"]["what"] == "close")
    assert ended < sent
    exit_order = next(o for o in h.sim_orders() if "r0a" in o["clOrdId"])
    assert int(the_stop(h)["uTime"]) <= int(exit_order["cTime"])


def hold(h: Cli) -> dict[str, Any]:
    """Open the ladder and fill every rung; the market then stays above it. One armed tick: filled, with
    the stop placed in that very tick."""
    px = open_entries(h)
    fill_rung_fully(h, px[2])
    keep_away(h, px)
    doc = h.tick(submit=True)
    assert doc["state"] == "filled", doc["state"]
    return doc


def the_stop(h: Cli) -> dict[str, Any]:
    (stop,) = algos(h)
    return stop


# ---- placed with the first fill, resized as rungs fill ----------------------------------------


def test_stop_is_placed_in_the_tick_of_the_first_fill_and_follows_the_own_size(cli: Cli) -> None:
    h = cli
    px = open_entries(h)
    fill_rung_fully(h, px[0])  # rung 1 only
    keep_away(h, px)
    doc = h.tick(submit=True)
    assert doc["state"] == "partially_filled"
    stop = the_stop(h)
    assert stop["algoClOrdId"] == f"{doc['cycle_id']}s0"
    assert (stop["state"], stop["ordType"], stop["side"], stop["posSide"]) == (
        "live", "conditional", "sell", "long",
    )  # fmt: skip
    assert (stop["reduceOnly"], stop["slOrdPx"], stop["slTriggerPxType"]) == ("true", "-1", "mark")
    assert Decimal(stop["sz"]) == own_size(h) == Decimal(doc["rungs"][0]["sz"])
    assert Decimal(stop["slTriggerPx"]) == stop_px(h)
    assert stop.get("closeFraction", "") == ""  # never the whole position

    fill_rung_fully(h, px[1])  # rung 2 fills: the stop follows
    keep_away(h, px)
    doc = h.tick(submit=True)
    assert doc["state"] == "partially_filled"
    stop = the_stop(h)  # the same algo, amended
    assert stop["state"] == "live" and stop["algoClOrdId"] == f"{doc['cycle_id']}s0"
    assert Decimal(stop["sz"]) == own_size(h) == Decimal(doc["rungs"][0]["sz"]) * 2
    assert Decimal(stop["slTriggerPx"]) == stop_px(h)  # the new average entry
    assert post_count(h, "order-algo") == 1 and post_count(h, "amend-algos") == 1
    amends = [r["data"] for r in h.journal() if r["kind"] == "ack" and r["data"]["what"] == "stop_amend"]
    assert [a["outcome"] for a in amends] == ["accepted"]
    assert "anomaly" not in h.kinds()
    assert_every_fill_journaled_once(h)


# ---- fired: on the price type it watches --------------------------------------------------------


def test_stop_on_mark_fires_while_the_last_price_never_reaches_it(cli: Cli) -> None:
    h = cli
    hold(h)
    sl = Decimal(the_stop(h)["slTriggerPx"])
    h.sim.set_price(mark=str(sl - 5))  # the mark crosses the stop; the last price stays above
    assert the_stop(h)["state"] == "effective"
    assert Decimal(h.sim.state()["px"]) > sl

    doc = h.tick(submit=True)  # one tick settles it: the algo, its child order, its fills
    assert doc["state"] == "closed"
    assert archive(h)["exit_reason"] == "stop"
    (child_id,) = the_stop(h)["ordIdList"]
    child = next(o for o in h.sim_orders() if o["ordId"] == child_id)
    assert (child["side"], child["state"], child["reduceOnly"]) == ("sell", "filled", "true")
    assert Decimal(child["accFillSz"]) == Decimal(doc["filled_sz"])
    assert {f["ordId"] for f in doc["fills"] if f["side"] == "sell"} == {child_id}
    assert own_size(h) == 0 and flat(h)
    assert post_count(h, "order") == 0 and exits(h) == []  # no exit of our own was sent
    assert_every_fill_journaled_once(h)


def machine_copy(tmp_path: Path, name: str, *changes: tuple[str, str]) -> Path:
    """The shipped ladder under another name (and prefix, state file), with text changes."""
    text = (REPO / "machines" / f"{MACHINE}.yaml").read_text().replace(MACHINE, name)
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "machines" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_stop_on_last_fires_while_no_runner_ticks_and_the_next_tick_settles_it(
    cli: Cli, tmp_path: Path
) -> None:
    """The reverse: a stop on the last price fires while the mark never reaches it, and no tick runs
    between its firing and hours later (a runner killed meanwhile): the next tick finds it all."""
    h = cli
    h.name = str(machine_copy(tmp_path, MACHINE, ("trigger_px_type: mark", "trigger_px_type: last")))
    hold(h)
    stop = the_stop(h)
    assert stop["slTriggerPxType"] == "last"
    sl = Decimal(stop["slTriggerPx"])
    h.sim.set_price(mark=h.sim.state()["px"])
    h.sim.set_price(mark=str(Decimal(h.sim.state()["px"]) + 200))  # the mark kept far above the last
    h.sim.set_price(str(sl - 2))  # the last trades through the stop
    assert the_stop(h)["state"] == "effective"
    assert Decimal(h.sim.state()["feeds"]["ETH-USDT-SWAP"]["mark"]) > sl
    h.sim.set_price(str(sl + 60))  # the market recovers
    h.sim.advance(BAR_S * 12)  # hours pass with nothing ticking: the hold time is up meanwhile

    doc = h.tick(submit=True)
    assert doc["state"] == "closed"
    assert archive(h)["exit_reason"] == "stop"
    assert own_size(h) == 0 and flat(h) and exits(h) == []
    assert_every_fill_journaled_once(h)


# ---- refused: the market is already through it -----------------------------------------------------


def test_stop_refused_for_its_price_exits_the_own_size_at_once(cli: Cli) -> None:
    h = cli
    px = open_entries(h)
    h.sim.set_price(mark=str(Decimal(h.sim.state()["px"]) - 300))  # the mark far below the last
    fill_rung_fully(h, px[2])
    keep_away(h, px)
    doc = h.tick(submit=True)  # fills, the stop refused, the exit sent: one tick
    assert doc["state"] == "filled"
    (stop,) = doc["stops"]
    assert stop["reject"]["sCode"] in {"51302", "51304"} and algos(h) == []
    assert post_count(h, "order-algo") == 1
    assert doc["close_request"]["requested_by"] == "stop"
    assert exits(h) == [("sell", Decimal(doc["filled_sz"]), "true")]

    doc = h.tick(submit=True)
    assert doc["state"] == "closed" and archive(h)["exit_reason"] == "stop"
    assert own_size(h) == 0 and flat(h)
    assert_every_fill_journaled_once(h)


# ---- cancelled by hand: placed again ------------------------------------------------------------------


def test_stop_cancelled_by_hand_is_journaled_and_placed_again(cli: Cli) -> None:
    h = cli
    doc = hold(h)
    first = the_stop(h)
    h.sim.user_cancel_algo(algo_client_order_id=first["algoClOrdId"])

    doc = h.tick(submit=True)
    assert doc["state"] == "filled"
    old, new = algos(h)
    assert (old["algoClOrdId"], old["state"]) == (first["algoClOrdId"], "canceled")
    assert (new["algoClOrdId"], new["state"]) == (f"{doc['cycle_id']}s1", "live")
    assert Decimal(new["sz"]) == own_size(h) and Decimal(new["slTriggerPx"]) == stop_px(h)
    anomalies = [r["data"] for r in h.journal() if r["kind"] == "anomaly"]
    assert [(a["algoClOrdId"], a["observation"]) for a in anomalies] == [
        (first["algoClOrdId"], "stop_canceled_by_hand")
    ]
    assert_every_fill_journaled_once(h)


# ---- ended with the cycle -------------------------------------------------------------------------------


def test_timed_exit_cancels_the_stop_then_exits_the_own_size_flat_never_short(cli: Cli) -> None:
    h = cli
    hold(h)
    held = own_size(h)
    h.sim.advance(BAR_S * 9)  # the hold time is up
    h.tick(submit=True)
    assert the_stop(h)["state"] == "canceled" and exits(h) == [("sell", held, "true")]
    assert_stop_ended_before_the_exit(h)
    doc = h.tick(submit=True)
    assert doc["state"] == "closed" and archive(h)["exit_reason"] == "timed"
    assert own_size(h) == 0 and flat(h) and position(h, "short") == 0
    assert post_count(h, "cancel-algos") == 1 and post_count(h, "order") == 1
    assert_every_fill_journaled_once(h)


def test_a_fill_found_with_the_exit_already_due_is_protected_while_the_remainder_is_cancelled(
    cli: Cli,
) -> None:
    """Hours pass unticked: rung 1 filled, the entry window and the hold time are both up. The exit can go
    out only once every rung is terminal; until OKX shows the remainder cancelled, a stop protects the own
    size (judged from the venue after every tick), then it is cancelled and the exit closes flat."""
    h = cli
    px = open_entries(h)
    fill_rung_fully(h, px[0])
    keep_away(h, px)
    h.sim.advance(BAR_S * 9)  # the entry window and the hold time are up, nothing ticked
    h.sim.set_faults([{"endpoint": "*", "kind": "async_cancel", "count": 1}])  # the cancel applies later
    doc = h.tick(submit=True)
    assert doc["state"] == "cancelling", doc["state"]  # the remainder's cancel has not applied yet
    assert the_stop(h)["state"] == "live" and Decimal(the_stop(h)["sz"]) == own_size(h) > 0
    for _ in range(4):
        if flat(h):
            break
        h.sim.advance(35)  # the cancel applies; a retry interval passes
        doc = h.tick(submit=True)
        live = [a for a in algos(h) if a["state"] == "live"]
        assert flat(h) or any(Decimal(a["sz"]) >= own_size(h) for a in live) or exits(h), doc["state"]
    assert flat(h) and own_size(h) == 0
    h.tick(submit=True)
    assert "archived, exit timed:" in h.machine("history").output
    assert_every_fill_journaled_once(h)


def test_timed_exit_racing_the_stop_firing_closes_flat_once(cli: Cli) -> None:
    """The cancel of the stop is held up on its way (latency); the mark crosses the stop meanwhile, so
    OKX fires it and answers the cancel 51416. The stop's fills close the cycle; no exit is sent."""
    h = cli
    hold(h)
    sl = Decimal(the_stop(h)["slTriggerPx"])
    h.sim.advance(BAR_S * 9)
    h.sim.set_faults([{"endpoint": f"POST {TRADE}/cancel-algos", "kind": "latency_ms", "ms": 1500}])
    with ThreadPoolExecutor(max_workers=1) as pool:
        ticking = pool.submit(h.tick, submit=True)
        wait_until(lambda: post_count(h, "cancel-algos") == 1, "the stop's cancel to arrive")
        h.sim.set_price(mark=str(sl - 5))  # fires while the cancel waits
        ticking.result(timeout=30)
    acks = [r["data"] for r in h.journal() if r["kind"] == "ack" and r["data"]["what"] == "stop_cancel"]
    assert [a["sCode"] for a in acks[-1]["acks"]] == ["51416"]

    doc = h.tick(submit=True)
    assert doc["state"] == "closed" and archive(h)["exit_reason"] == "stop"
    assert exits(h) == [] and post_count(h, "order") == 0
    assert own_size(h) == 0 and flat(h) and position(h, "short") == 0
    assert_every_fill_journaled_once(h)


def test_flatten_cancels_the_stop_and_exits_the_own_size(cli: Cli) -> None:
    h = cli
    hold(h)
    held = own_size(h)
    h.machine("flatten", "--submit")  # carried out at once: the stop's cancel goes first, then the exit
    assert the_stop(h)["state"] == "canceled" and exits(h) == [("sell", held, "true")]
    assert_stop_ended_before_the_exit(h)
    doc = h.tick(submit=True)
    assert doc["state"] == "closed" and archive(h)["exit_reason"] == "operator"
    assert own_size(h) == 0 and flat(h)
    assert_every_fill_journaled_once(h)


# ---- shared instrument, net mode -------------------------------------------------------------------------


def test_two_machines_each_protect_their_own_size_and_a_hand_position_is_untouched(
    cli: Cli, tmp_path: Path
) -> None:
    first = cli
    second = Cli(
        sim=first.sim,
        state_dir=tmp_path / "second",
        env=first.env,
        name=str(
            machine_copy(
                tmp_path,
                "eth_second",
                ("client_order_id_prefix: ertw", "client_order_id_prefix: erts"),
                ('loss: "0.02"', 'loss: "0.05"'),
            )
        ),
        prefix="erts",
    )
    first.signal()
    for h in (first, second):
        assert h.tick(submit=True)["state"] == "entries_open"
    first.sim.user_order(side="buy", sz="1", pos_side="long")  # the trader's own position, by hand
    px = [Decimal(r["px"]) for r in first.status()["rungs"]]
    fill_rung_fully(first, px[2])
    keep_away(first, px)
    for h in (first, second):
        assert h.tick(submit=True)["state"] == "filled"
        assert Decimal(the_stop(h)["sz"]) == own_size(h) > 0  # its own size, never the whole position
    assert position(first) == own_size(first) + own_size(second) + 1

    first.sim.set_price(mark=str(stop_px(first) - 5))  # below the first's stop, above the second's
    assert the_stop(first)["state"] == "effective" and the_stop(second)["state"] == "live"
    for h in (first, second):
        h.tick(submit=True)
    assert first.status()["state"] == "closed" and own_size(first) == 0
    assert position(first) == own_size(second) + 1

    second.machine("flatten", "--submit")
    assert second.tick(submit=True)["state"] == "closed" and own_size(second) == 0
    assert position(first) == 1  # the hand position, untouched
    for h in (first, second):
        assert_every_fill_journaled_once(h)


def test_net_mode_stop_is_reduce_only_on_the_net_position_and_closes_it_flat(cli: Cli) -> None:
    h = cli
    h.sim.set_account(pos_mode="net_mode")
    hold(h)
    stop = the_stop(h)
    assert (stop["posSide"], stop["side"], stop["reduceOnly"]) == ("net", "sell", "true")
    assert Decimal(stop["sz"]) == own_size(h) == position(h, "net")
    h.sim.set_price(mark=str(Decimal(stop["slTriggerPx"]) - 5))
    doc = h.tick(submit=True)
    assert doc["state"] == "closed" and archive(h)["exit_reason"] == "stop"
    assert position(h, "net") == 0 and flat(h)
    assert_every_fill_journaled_once(h)


# ---- seen by the trader -----------------------------------------------------------------------------------


def test_status_shows_the_stop_and_its_distance_and_history_the_exit_reason(cli: Cli) -> None:
    h = cli
    hold(h)
    stop = the_stop(h)
    doc = h.json("status", "--observe")
    protection = doc["protection"]
    assert protection["unprotected"] is False
    assert protection["stop"]["algoClOrdId"] == stop["algoClOrdId"]
    assert Decimal(protection["stop"]["slTriggerPx"]) == Decimal(stop["slTriggerPx"])
    last = Decimal(protection["last_px"])
    assert Decimal(protection["distance"]["px"]) == last - Decimal(stop["slTriggerPx"])
    text = h.machine("status", "--observe").output
    assert f"stop      {stop['algoClOrdId']} live  sl {stop['slTriggerPx']} (mark)" in text
    watched = h.run("watch", MACHINE, "--state-dir", str(h.state_dir), "--observe").output
    assert f"stop live {stop['slTriggerPx']} (mark) {protection['distance']['pct']}%" in watched

    h.sim.set_price(mark=str(Decimal(stop["slTriggerPx"]) - 5))
    h.tick(submit=True)
    assert "archived, exit stop:" in h.machine("history").output


# ---- the three outcomes of a place, and an amend refused --------------------------------------------


def test_a_stop_placed_with_a_lost_answer_is_found_by_its_algo_client_order_id_never_sent_twice(
    cli: Cli,
) -> None:
    h = cli
    px = open_entries(h)
    h.sim.set_faults([{"endpoint": f"POST {TRADE}/order-algo", "kind": "drop_after_apply"}])
    fill_rung_fully(h, px[2])
    keep_away(h, px)
    doc = h.tick(submit=True)
    assert doc["state"] == "filled"
    (stop,) = doc["stops"]
    assert stop["state"] == "unknown" and the_stop(h)["state"] == "live"  # applied, the answer lost
    doc = h.tick(submit=True)
    assert [s["state"] for s in doc["stops"]] == ["live"]
    assert doc["stops"][0]["okx"]["algoId"] == the_stop(h)["algoId"]
    assert post_count(h, "order-algo") == 1 and len(algos(h)) == 1
    assert "anomaly" not in h.kinds()
    assert_every_fill_journaled_once(h)


@pytest.mark.parametrize("kind", ["drop_before_apply", "late_apply"])
def test_a_stop_place_okx_does_not_show_goes_again_next_tick_with_the_same_algo_client_order_id(
    cli: Cli, kind: str
) -> None:
    """Lost before it applied, or applied late: the next tick sends the same algoClOrdId at once (not
    after a grace), so the position is protected again after one tick; a late first send is then
    refused 51065 by OKX. One stop on the venue, never two."""
    h = cli
    px = open_entries(h)
    h.sim.set_faults([{"endpoint": f"POST {TRADE}/order-algo", "kind": kind, "ms": 3000}])
    fill_rung_fully(h, px[2])
    keep_away(h, px)
    doc = h.tick(submit=True)
    (stop,) = doc["stops"]
    assert stop["state"] == "unknown" and algos(h) == []  # nothing on the venue yet
    h.sim.advance(1)  # within the grace, before a late send applies
    doc = h.tick(submit=True)
    assert [s["algoClOrdId"] for s in doc["stops"]] == [stop["algoClOrdId"]]
    assert the_stop(h)["algoClOrdId"] == stop["algoClOrdId"] and the_stop(h)["state"] == "live"
    assert Decimal(the_stop(h)["sz"]) == own_size(h) > 0  # protected after one tick
    assert post_count(h, "order-algo") == 2
    h.sim.advance(5)  # a late first send applies now: OKX refuses it, the algoClOrdId is live
    doc = h.tick(submit=True)
    assert [s["state"] for s in doc["stops"]] == ["live"] and len(algos(h)) == 1
    sends = [r["data"] for r in h.journal() if r["kind"] == "submit" and r["data"]["what"] == "stop"]
    assert [d["stop"]["algoClOrdId"] for d in sends] == [stop["algoClOrdId"]] * 2  # write-ahead, both
    assert_every_fill_journaled_once(h)


def test_an_exit_asked_for_while_the_stop_place_is_in_doubt_waits_out_its_grace_then_goes(cli: Cli) -> None:
    """The stop's place was lost and the operator asks to close: the stop is not sent again just to be
    cancelled, the exit waits while the lost place could still apply (never two reduce-only orders for one
    size), then goes out: flat, no stop left, never stuck."""
    h = cli
    px = open_entries(h)
    h.sim.set_faults([{"endpoint": f"POST {TRADE}/order-algo", "kind": "drop_before_apply"}])
    fill_rung_fully(h, px[2])
    keep_away(h, px)
    (stop,) = h.tick(submit=True)["stops"]
    assert stop["state"] == "unknown" and algos(h) == []
    h.machine("close", "--submit")  # within the grace: the exit waits for the place in doubt
    assert exits(h) == [] and algos(h) == []
    for _ in range(3):
        h.sim.advance(10)  # past the grace: the lost place can no longer apply
        h.tick(submit=True)
        if flat(h):
            break
    assert flat(h) and exits(h) == [("sell", Decimal("0.99"), "true")]
    assert algos(h) == [] and post_count(h, "order-algo") == 1  # never sent again only to be cancelled
    h.tick(submit=True)
    assert archive(h)["exit_reason"] == "operator"
    assert_every_fill_journaled_once(h)


def test_a_late_amend_leaving_the_stop_smaller_than_the_own_size_goes_again_next_tick(cli: Cli) -> None:
    h = cli
    px = open_entries(h)
    fill_rung_fully(h, px[0])
    keep_away(h, px)
    h.tick(submit=True)
    h.sim.set_faults([{"endpoint": f"POST {TRADE}/amend-algos", "kind": "late_apply", "ms": 3000}])
    fill_rung_fully(h, px[1])
    keep_away(h, px)
    h.tick(submit=True)
    assert Decimal(the_stop(h)["sz"]) < own_size(h)  # the amend has not applied
    h.sim.advance(1)
    h.tick(submit=True)
    assert Decimal(the_stop(h)["sz"]) == own_size(h)  # amended again at once, not after a retry interval
    assert post_count(h, "amend-algos") == 2
    h.sim.advance(5)  # the late amend applies too: the same values
    h.tick(submit=True)
    assert Decimal(the_stop(h)["sz"]) == own_size(h) and post_count(h, "amend-algos") == 2
    assert_every_fill_journaled_once(h)


def test_an_amend_refused_cancels_the_stop_and_places_the_next_one_for_the_whole_size(cli: Cli) -> None:
    h = cli
    px = open_entries(h)
    fill_rung_fully(h, px[0])
    keep_away(h, px)
    doc = h.tick(submit=True)
    assert doc["state"] == "partially_filled" and the_stop(h)["state"] == "live"
    h.sim.set_faults([{"endpoint": f"POST {TRADE}/amend-algos", "kind": "burst_429"}])
    fill_rung_fully(h, px[1])
    keep_away(h, px)
    h.sim.advance(2)  # a fresh rate window
    doc = h.tick(submit=True)
    first, second = algos(h)
    assert (first["state"], second["state"]) == ("canceled", "live")
    assert second["algoClOrdId"] == f"{doc['cycle_id']}s1"
    assert Decimal(second["sz"]) == own_size(h) and Decimal(second["slTriggerPx"]) == stop_px(h)
    amends = [r["data"] for r in h.journal() if r["kind"] == "ack" and r["data"]["what"] == "stop_amend"]
    assert [a["outcome"] for a in amends] == ["rejected:50011"]
    cancels = [r["data"] for r in h.journal() if r["kind"] == "cancel" and r["data"].get("what") == "stop"]
    assert [c["why"] for c in cancels] == ["the amend was refused (50011): cancel and replace"]
    assert_every_fill_journaled_once(h)


def test_on_refused_park_stops_the_machine_with_the_reason_and_an_operator_close_still_exits(
    cli: Cli, tmp_path: Path
) -> None:
    h = cli
    h.name = str(machine_copy(tmp_path, MACHINE, ("on_refused: exit", "on_refused: park")))
    px = open_entries(h)
    h.sim.set_price(mark=str(Decimal(h.sim.state()["px"]) - 300))
    fill_rung_fully(h, px[2])
    keep_away(h, px)
    out = h.machine("tick", "--submit", expect=4).output
    assert "cannot protect the own size 0.99" in out and "on_refused is park" in out
    assert "Traceback" not in out
    assert algos(h) == [] and exits(h) == []  # refused, and nothing else sent
    assert h.machine("tick", "--submit", expect=4).output.count("on_refused is park") == 1
    assert exits(h) == [] and h.status()["protection"]["unprotected"] is True

    h.machine("close", "--submit")  # the operator takes it out
    assert exits(h) == [("sell", Decimal("0.99"), "true")]
    doc = h.tick(submit=True)
    assert doc["state"] == "closed" and archive(h)["exit_reason"] == "operator"
    assert flat(h)
    assert_every_fill_journaled_once(h)


def test_intent_renders_the_stops_request_without_sending_it_and_then_shows_it_as_sent(cli: Cli) -> None:
    h = cli
    px = open_entries(h)
    fill_rung_fully(h, px[0])
    keep_away(h, px)
    h.machine("reconcile")  # read-only: the fill is journaled, nothing is sent
    posts = h.posts()
    doc = h.json("intent")
    stop = doc["stop"]
    assert stop["source"] == "rendered_now" and stop["request"]["path"] == "/api/v5/trade/order-algo"
    body = stop["request"]["body"]
    assert (body["algoClOrdId"], body["ordType"], body["side"], body["posSide"]) == (
        f"{doc['cycle_id']}s0", "conditional", "sell", "long",
    )  # fmt: skip
    assert (body["reduceOnly"], body["slOrdPx"], Decimal(body["sz"])) == (True, "-1", own_size(h))
    assert Decimal(body["slTriggerPx"]) == stop_px(h) and "closeFraction" not in body
    assert h.posts() == posts and algos(h) == []
    assert "stop ertw" in h.machine("intent").output

    h.tick(submit=True)  # armed: that very request goes out
    sent = h.json("intent")["stop"]
    assert sent["source"] == "state" and sent["request"]["body"] == body
    assert the_stop(h)["algoClOrdId"] == body["algoClOrdId"]


def test_a_take_profit_rides_on_the_stops_order_and_ends_the_cycle_as_take_profit(
    cli: Cli, tmp_path: Path
) -> None:
    h = cli
    with_tp = ("    on_refused: exit", '    on_refused: exit\n  take_profit: "0.03"')
    h.name = str(machine_copy(tmp_path, MACHINE, with_tp))
    hold(h)
    stop = the_stop(h)
    entries = venue_fills(h, "buy")
    avg = sum(Decimal(f["fillPx"]) * Decimal(f["fillSz"]) for f in entries) / own_size(h)
    tp = Decimal(stop["tpTriggerPx"])
    assert tp == (avg * Decimal("1.03")).quantize(TICK, rounding=ROUND_CEILING)  # up, away from the entry
    assert (stop["tpOrdPx"], stop["tpTriggerPxType"]) == ("-1", "mark")
    h.sim.set_price(mark=str(tp + 5))  # the mark reaches the take-profit
    doc = h.tick(submit=True)
    assert doc["state"] == "closed" and archive(h)["exit_reason"] == "take_profit"
    assert own_size(h) == 0 and flat(h)
    assert_every_fill_journaled_once(h)


def test_without_a_stop_block_nothing_is_placed_and_status_says_unprotected(cli: Cli, tmp_path: Path) -> None:
    h = cli
    h.name = str(
        machine_copy(
            tmp_path,
            MACHINE,
            ("  stop:\n", ""),
            ('    loss: "0.02"', ""),
            ("    trigger_px_type: mark", ""),
            ("    on_refused: exit", ""),
        )
    )
    hold(h)
    assert algos(h) == [] and post_count(h, "order-algo") == 0
    doc = h.status()
    assert doc["protection"]["declared"] is None and doc["protection"]["unprotected"] is True
    assert "stop      none declared: our own 0.99 is UNPROTECTED on OKX" in h.machine("status").output
