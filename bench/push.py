"""Push's side of `make bench`: REST requests per quiet minute with `run --push` (entries open, and
holding a position under a working stop), and how long a fill takes from the venue to the journal with
push against polling.

The runner runs as `okx-fsm run --push` does (a thread here), against the simulator's private channel and,
where the machine declares a stop, its business channel (orders-algo).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from bench import engine
from exchange import OkxAlgoOrder, OkxClient, OkxOrder
from exchange.sim import Simulator
from exchange.ws import ALGO_ORDERS, ORDERS, OkxPrivateStream, channel_url
from fsm.service.push import PushFeed, algo_feed, order_feed
from fsm.service.runner import Runner, RunOptions

MACHINE = "eth_robust_twap_15m"
ALGO_REQUESTS = ("GET /api/v5/trade/orders-algo-pending", "GET /api/v5/trade/order-algo")


def _runner(
    sim: Simulator, state_dir: Path, *, interval_s: float, reconcile_s: float, machine: str = MACHINE
) -> Runner:
    client = OkxClient(sim.api_key, sim.secret_key, sim.passphrase, base_url=sim.base_url, armed=True)
    keys = (sim.api_key, sim.secret_key, sim.passphrase)

    def feed(on_push: Callable[[OkxOrder], None]) -> PushFeed[OkxOrder]:
        return order_feed(OkxPrivateStream(sim.ws_url, *keys, channel=ORDERS, now_ms=client.now_ms), on_push)

    def algos(on_push: Callable[[OkxAlgoOrder], None]) -> PushFeed[OkxAlgoOrder]:
        url = channel_url(sim.ws_url, ALGO_ORDERS)
        return algo_feed(OkxPrivateStream(url, *keys, channel=ALGO_ORDERS, now_ms=client.now_ms), on_push)

    options = RunOptions(submit=True, interval_s=interval_s, ticks=0, push_reconcile_s=reconcile_s)
    return Runner([machine], state_dir, client, options, push=feed, push_algos=algos)


def _journal(state_dir: Path) -> list[dict[str, object]]:
    path = state_dir / f"{MACHINE}_live.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _fills(state_dir: Path) -> int:
    return sum(1 for r in _journal(state_dir) if r["kind"] == "fill")


def _wait(what: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise TimeoutError("the runner did not get there in time")
        time.sleep(0.002)


def quiet_minute_and_fill_latency(quiet_s: float = 61.0, polling_s: float = 30.0) -> tuple[int, float, int]:
    """REST requests over `quiet_s` of entries open with push (interval `polling_s`, reconcile 60 s),
    then the median seconds from each rung's fill on the venue to its fill record in the journal."""
    state_dir = Path(tempfile.mkdtemp(prefix="okx-fsm-bench-push-")) / "state"
    with Simulator(seed=7, clock="manual", start_px="3000", rate_limits=False) as sim:
        sim.set_price(str(Decimal(sim.state()["px"]) + 10))
        sim.advance(900)
        runner = _runner(sim, state_dir, interval_s=polling_s, reconcile_s=60.0)
        thread = threading.Thread(target=runner.run, daemon=True)
        thread.start()
        try:
            _wait(lambda: any(r.get("kind") == "transition" for r in _journal(state_dir)[2:]), 10)
            _wait(lambda: len([o for o in sim.state()["orders"] if o["state"] == "live"]) == 3, 10)
            time.sleep(1.0)
            before = sum(sim.stats()["requests"].values())
            time.sleep(quiet_s)
            quiet = sum(sim.stats()["requests"].values()) - before
            latencies = []
            rungs = sorted(
                (o for o in sim.state()["orders"] if o["clOrdId"].startswith("ertw")),
                key=lambda o: -Decimal(o["px"]),
            )
            for rung in rungs:
                seen = _fills(state_dir)
                started = time.monotonic()
                sim.set_price(str(Decimal(rung["px"]) - Decimal("0.5")))
                sim.advance(1)
                _wait(lambda: _fills(state_dir) > seen, 10)  # noqa: B023 (waited on within the loop)
                latencies.append(time.monotonic() - started)
        finally:
            runner.request_stop()
            thread.join(10)
    return quiet, statistics.median(latencies), len(latencies)


def quiet_minute_under_a_stop(quiet_s: float = 61.0, polling_s: float = 30.0) -> tuple[Counter[str], int]:
    """REST requests over `quiet_s` with push (interval `polling_s`, reconcile 60 s) while one machine holds
    its position under a working stop, both channels open: the requests by endpoint, and the rounds. The
    stop's algo is asked only by the periodic full reconcile, never by a quiet round."""
    with engine.account_with_entries_open(1) as account:
        engine.hold_under_a_stop(account)
        account.stores[0].close()  # the runner holds it from here
        machine = account.machines[0]
        runner = _runner(
            account.sim,
            machine.state_path.parent,
            interval_s=polling_s,
            reconcile_s=60.0,
            machine=str(account.paths[0]),
        )
        thread = threading.Thread(target=runner.run, daemon=True)
        thread.start()
        try:
            _wait(lambda: runner.rounds >= 1 and runner.algo_feed is not None, 30)
            time.sleep(1.0)
            before, rounds = account.requests(), runner.rounds
            time.sleep(quiet_s)
            made = account.requests() - before
            rounds = runner.rounds - rounds
            assert runner.slots[0].state is not None and runner.slots[0].state.state == "filled"
        finally:
            runner.request_stop()
            thread.join(10)
    return made, rounds
