"""The runner with push (`run --push`) against the simulator's private channel: a pushed fill ticks its
machine at once, a quiet stretch costs no REST request, a lost push is healed by the next REST
reconcile; judged from the simulator's request counts and the journal."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner

from exchange import OkxAlgoOrder, OkxClient, OkxOrder
from exchange.sim import Simulator
from exchange.ws import ALGO_ORDERS, ORDERS, Channel, OkxPrivateStream, channel_url
from fsm.cli.app import app
from fsm.service.push import PushFeed, PushView, algo_feed, order_feed
from fsm.service.runner import Runner, RunOptions

MACHINE = "eth_robust_twap_15m"
REPO = Path(__file__).resolve().parents[2]
R = TypeVar("R")
CEILING_S = 60.0  # how long a condition may take on a busy machine; only a broken runner waits this long
NEVER_S = 3600.0  # an interval or reconcile period no test lives to see: what happens comes from pushes


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=7, clock="manual", start_px="3000", rate_limits=False) as simulator:
        yield simulator


class Running:
    """A runner with push in a thread of its own, for as long as the test needs it (with `algos`, given
    the orders-algo channel too, which it opens where a machine declares a stop)."""

    def __init__(
        self,
        sim: Simulator,
        tmp_path: Path,
        *,
        reconcile_s: float,
        interval_s: float = 30.0,
        time_sync_s: float = 300.0,
        machine: str = MACHINE,
        algos: bool = False,
    ) -> None:
        self.sim = sim
        self.state_path = tmp_path / "state" / f"{Path(machine).stem}_live.json"
        client = OkxClient(sim.api_key, sim.secret_key, sim.passphrase, base_url=sim.base_url, armed=True)

        timer = OkxClient(sim.api_key, sim.secret_key, sim.passphrase, base_url=sim.base_url)

        def login_time() -> int:  # as `run --push` logs in: exchange time measured afresh, over REST
            timer.sync_time()
            return timer.now_ms()

        def stream(channel: Channel[R]) -> OkxPrivateStream[R]:
            url = channel_url(sim.ws_url, channel)
            keys = (sim.api_key, sim.secret_key, sim.passphrase)
            return OkxPrivateStream(
                url, *keys, channel=channel, now_ms=client.now_ms, login_ms=login_time, backoff=(0.05, 0.2)
            )

        def feed(on_push: Callable[[OkxOrder], None]) -> PushFeed[OkxOrder]:
            return order_feed(stream(ORDERS), on_push)

        def algo_pushes(on_push: Callable[[OkxAlgoOrder], None]) -> PushFeed[OkxAlgoOrder]:
            return algo_feed(stream(ALGO_ORDERS), on_push)

        options = RunOptions(
            submit=True, interval_s=interval_s, ticks=0, push_reconcile_s=reconcile_s, time_sync_s=time_sync_s
        )
        state_dir, algo_factory = tmp_path / "state", algo_pushes if algos else None
        self.runner = Runner([machine], state_dir, client, options, push=feed, push_algos=algo_factory)
        self.thread = threading.Thread(target=self.runner.run, daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.runner.request_stop()
        self.thread.join(CEILING_S)

    def journal(self) -> list[dict[str, Any]]:
        """The journal's complete lines (the runner may be writing the last one as it is read)."""
        path = self.state_path.with_suffix(".jsonl")
        text = path.read_text() if path.exists() else ""
        return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]

    def wait_for(self, what: Callable[[], bool]) -> None:
        """Until `what()` holds; the ceiling is generous, never a budget."""
        give_up = time.monotonic() + CEILING_S
        while not what():
            assert time.monotonic() < give_up, f"not met within {CEILING_S:.0f} s"
            time.sleep(0.01)

    def rest_requests(self) -> int:
        return sum(self.sim.stats()["requests"].values())


def entries_open(running: Running) -> bool:
    return any(r["kind"] == "transition" and r["data"]["to"] == "entries_open" for r in running.journal())


def fills(running: Running) -> list[dict[str, Any]]:
    return [r for r in running.journal() if r["kind"] == "fill"]


def fill_lowest_rung(sim: Simulator) -> None:
    rungs = [o for o in sim.state()["orders"] if o["clOrdId"].startswith("ertw")]
    sim.set_price(str(min(Decimal(o["px"]) for o in rungs) - 5))
    sim.advance(1)


def signal(sim: Simulator) -> None:
    sim.set_price(str(Decimal(sim.state()["px"]) + 10))
    sim.advance(900)


def test_a_pushed_fill_ticks_its_machine_at_once(sim: Simulator, tmp_path: Path) -> None:
    """Neither the interval's tick nor a reconcile comes within the test: only the push can tick."""
    signal(sim)
    with Running(sim, tmp_path, reconcile_s=NEVER_S, interval_s=NEVER_S) as running:
        running.wait_for(lambda: entries_open(running))
        fill_lowest_rung(sim)
        running.wait_for(lambda: bool(fills(running)))
        shown = CliRunner().invoke(app, ["status", MACHINE, "--state-dir", str(tmp_path / "state"), "--json"])
        push = json.loads(shown.stdout)["runner"]["push"]
        assert push["connected"] and push["last_push_exchange_ms"] is not None and push["reconnects"] == 0
        text = CliRunner().invoke(app, ["status", MACHINE, "--state-dir", str(tmp_path / "state")]).stdout
        assert "push      connected, last push " in text
    pushed = [r for r in running.journal() if r["kind"] == "order" and r["data"].get("source") == "push"]
    assert pushed, "the fill's order record says it came from a push"
    assert fills(running)[0]["data"]["evidence"]["tradeId"]  # the fill itself read from REST, by tradeId
    text = CliRunner().invoke(app, ["status", MACHINE, "--state-dir", str(tmp_path / "state")]).stdout
    assert "STOPPED" in text and "push      unknown: the runner is not ticking" in text  # never "connected"


def test_rounds_between_reconciles_ask_rest_nothing(sim: Simulator, tmp_path: Path) -> None:
    signal(sim)
    with Running(sim, tmp_path, reconcile_s=NEVER_S, interval_s=0.1) as running:
        running.wait_for(lambda: entries_open(running))
        running.wait_for(lambda: running.runner.rounds >= 3)
        before, rounds = running.rest_requests(), running.runner.rounds
        running.wait_for(lambda: running.runner.rounds >= rounds + 5)  # quiet rounds from the pushes' view
        assert running.rest_requests() == before


def test_a_lost_push_is_healed_by_the_next_rest_reconcile(sim: Simulator, tmp_path: Path) -> None:
    signal(sim)
    with Running(sim, tmp_path, reconcile_s=1.0) as running:
        running.wait_for(lambda: entries_open(running))
        sim.set_ws_faults({"lose": 50})  # every push of the fill is lost
        fill_lowest_rung(sim)
        running.wait_for(lambda: bool(fills(running)))
    assert sim.set_ws_faults({})["lost"] >= 1
    healed = [r for r in running.journal() if r["kind"] == "order" and r["data"].get("observation")]
    assert healed and all(r["data"].get("source") != "push" for r in healed[-1:])


def test_the_cancel_race_is_decided_by_the_first_push(sim: Simulator, tmp_path: Path) -> None:
    """The entry window expires and the cancel batch is held on the venue; meanwhile rung 1 fills. The
    fill's push reaches the runner first: rung 1 ends filled from the push, the others canceled. The
    cancel is held on the simulator's clock, so the race goes the same way however slow the machine."""
    signal(sim)
    with Running(sim, tmp_path, reconcile_s=NEVER_S, time_sync_s=0.0) as running:
        running.wait_for(lambda: entries_open(running))
        rungs = sorted(
            (o for o in sim.state()["orders"] if o["clOrdId"].startswith("ertw")), key=lambda o: o["clOrdId"]
        )
        held = {"kind": "latency_ms", "ms": 1000, "clock": "sim"}
        sim.set_faults([{"endpoint": "POST /api/v5/trade/cancel-batch-orders", **held}])
        sim.set_price("3200")  # away from the rungs while the clock jumps
        sim.advance(900 * 5)  # past the entry window
        running.runner.wake_all()
        running.wait_for(lambda: "POST /api/v5/trade/cancel-batch-orders" in sim.stats()["requests"])
        sim.set_price(str(Decimal(rungs[0]["px"]) - 5))  # lands while the cancel is held
        feed = running.runner.feed
        assert feed is not None
        filling = rungs[0]["clOrdId"]
        running.wait_for(lambda: any(o.clOrdId == filling and o.accFillSz for o in feed.records().values()))
        sim.advance(1)  # rung 1 fills the rest; then the cancel is let through
        sim.set_price("3100")
        running.wait_for(
            lambda: any(r["kind"] == "transition" and r["data"]["to"] == "filled" for r in running.journal())
        )
    ends = [
        r["data"]
        for r in running.journal()
        if r["kind"] == "order" and r["data"].get("to") in ("filled", "canceled")
    ]
    first = next(d for d in ends if d["clOrdId"] == rungs[0]["clOrdId"])
    assert (first["to"], first.get("source")) == ("filled", "push")
    assert sorted(d["to"] for d in ends) == ["canceled", "canceled", "filled"]
    acks = [r["data"] for r in running.journal() if r["kind"] == "ack" and r["data"]["what"] == "cancel"]
    assert [a["sCode"] for a in acks[0]["acks"]] == ["51400", "0", "0"]  # OKX: rung 1 was already filled


def test_a_lost_ending_push_does_not_outlive_the_reconcile_that_heals_it(
    sim: Simulator, tmp_path: Path
) -> None:
    """Every cancel push is lost, so the last pushes of the rungs say live. The next REST reconcile
    learns they are canceled and closes the cycle; from then on those pushes must not show the rungs
    working again (a stray to cancel for ever, a closed cycle that never goes idle, orphans). The
    next cycle is sent; judged from the simulator's orders and requests."""
    signal(sim)
    with Running(sim, tmp_path, reconcile_s=0.5, interval_s=0.05, time_sync_s=0.0) as running:
        running.wait_for(lambda: entries_open(running))
        first = {o["clOrdId"] for o in sim.state()["orders"] if o["clOrdId"].startswith("ertw")}
        sim.set_ws_faults({"lose": 1000})
        sim.set_price("3200")  # away from the rungs
        sim.advance(900 * 5)  # past the entry window: the cancel batch goes
        running.runner.wake_all()
        running.wait_for(lambda: "POST /api/v5/trade/cancel-batch-orders" in sim.stats()["requests"])
        sim.advance(1)  # the cancels apply
        running.wait_for(
            lambda: any(r["kind"] == "transition" and r["data"]["to"] == "idle" for r in running.journal())
        )
        signal(sim)  # a new bar after the reset: the next cycle
        running.runner.wake_all()
        running.wait_for(
            lambda: len([o for o in sim.state()["orders"] if o["clOrdId"].startswith("ertw")]) == 6
        )
        assert not any(slot.parked for slot in running.runner.slots)
    book = {o["clOrdId"]: o["state"] for o in sim.state()["orders"] if o["clOrdId"].startswith("ertw")}
    assert {book[c] for c in first} == {"canceled"}
    assert sorted(s for c, s in book.items() if c not in first) == ["live", "live", "live"]
    assert sim.stats()["requests"]["POST /api/v5/trade/cancel-batch-orders"] == 1  # no stray to cancel
    assert sim.set_ws_faults({})["lost"] >= 3  # the cancels' pushes never came


def test_a_check_before_a_send_reads_rest_not_the_pushes(sim: Simulator) -> None:
    """A push view shows an order live that REST has seen canceled (its ending push lost); what the
    orphan check before a send reads (`venue_pending_orders`) is REST's list."""
    client = OkxClient(sim.api_key, sim.secret_key, sim.passphrase, base_url=sim.base_url, armed=True)
    cl = "ertw1767571200000r1a0"
    fields = {"side": "buy", "posSide": "long", "ordType": "post_only", "px": "2990", "sz": "1"}
    payload = {**fields, "instId": "ETH-USDT-SWAP", "tdMode": "isolated", "clOrdId": cl}
    client.place_batch_orders("ETH-USDT-SWAP", [payload])
    live = client.get_order("ETH-USDT-SWAP", client_order_id=cl)
    client.cancel_batch_orders("ETH-USDT-SWAP", [(live.ordId, cl)])
    sim.advance(1)  # the cancel applies
    view = PushView(client, pending=[], pushed={live.ordId: live})
    assert list(view.pending_orders("ETH-USDT-SWAP")) == [live.ordId]
    assert view.venue_pending_orders("ETH-USDT-SWAP") == {}
    assert view.calls["orders-pending"] == 1


def test_a_runner_started_in_an_outage_runs_and_connects_push_once_the_venue_is_back(
    sim: Simulator, tmp_path: Path
) -> None:
    """Every REST request answers 503 when the runner starts, so the login's time cannot be measured:
    the runner does not stop; push connects when the venue returns, and a fill is pushed."""
    sim.set_faults([{"endpoint": "*", "kind": "http_503", "probability": 1}])
    signal(sim)
    with Running(sim, tmp_path, reconcile_s=60.0, interval_s=0.1) as running:
        # A failed round takes seconds: the client retries each read with backoff first.
        running.wait_for(lambda: running.runner.feed is not None and running.runner.rounds >= 2)
        feed = running.runner.feed
        assert feed is not None and not feed.connected and running.thread.is_alive()
        sim.set_faults([])
        running.wait_for(lambda: feed.connected and entries_open(running))
        fill_lowest_rung(sim)
        running.wait_for(lambda: bool(fills(running)))
    assert feed.reconnects >= 1 and feed.pushes >= 1
    assert sim.set_ws_faults({})["logins"] == 1  # the first login that could be made held


def test_an_ended_algo_is_taken_from_its_push_a_fired_one_only_with_its_child_order(sim: Simulator) -> None:
    """A push view takes a stop that a push showed canceled from the push (no REST request, source
    "push"); a push of it fired that names no child order is not enough, and REST is asked; a working
    one is always asked of REST."""
    client = OkxClient(sim.api_key, sim.secret_key, sim.passphrase, base_url=sim.base_url, armed=True)
    market = {"instId": "ETH-USDT-SWAP", "tdMode": "isolated", "side": "buy", "posSide": "long"}
    client.place_order("ETH-USDT-SWAP", side="buy", ord_type="market", sz=Decimal(1), pos_side="long")
    stop = {**market, "side": "sell", "ordType": "conditional", "sz": "1", "reduceOnly": True}
    stop |= {"slTriggerPx": "2900", "slOrdPx": "-1", "slTriggerPxType": "mark", "algoClOrdId": "ertw1s0"}
    client.place_algo_order(stop)
    live = client.get_algo_order(algo_client_order_id="ertw1s0")
    fired_unnamed = dataclasses.replace(live, state="effective", ordIdList=())

    view = PushView(client, pending=[], pushed={}, pushed_algos={"ertw1s0": fired_unnamed})
    assert view.algo(None, "ertw1s0") == live and view.calls["order-algo"] == 1
    view = PushView(client, pending=[], pushed={}, pushed_algos={"ertw1s0": live})
    assert view.algo(None, "ertw1s0") == live and view.calls["order-algo"] == 1
    assert view.pushed_algo("ertw1s0") is live and view.pushed_algo("ertw1s1") is None

    sim.user_cancel_algo(algo_client_order_id="ertw1s0")
    canceled = client.get_algo_order(algo_client_order_id="ertw1s0")
    view = PushView(client, pending=[], pushed={}, pushed_algos={"ertw1s0": canceled})
    taken = view.algo(None, "ertw1s0")
    assert taken is canceled and view.calls["order-algo"] == 0 and view.source_of(taken) == "push"


@pytest.mark.parametrize("declared", [True, False])
def test_the_business_stream_is_opened_only_where_a_machine_declares_a_stop(
    sim: Simulator, tmp_path: Path, declared: bool
) -> None:
    ladder = (REPO / "machines" / f"{MACHINE}.yaml").read_text().replace(MACHINE, "plain_ladder")
    if not declared:
        ladder = re.sub(r"\n  stop:\n(    .*\n)+", "\n", ladder)
    path = tmp_path / "plain_ladder.yaml"
    path.write_text(ladder)
    with Running(sim, tmp_path, reconcile_s=NEVER_S, machine=str(path), algos=True) as running:
        running.wait_for(lambda: running.runner.rounds >= 1)
        assert (running.runner.algo_feed is not None) is declared
        paths = sim.set_ws_faults({})
        assert paths["connections"] == paths["logins"] == (2 if declared else 1)
