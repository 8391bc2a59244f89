"""Push's side of `make bench`: REST requests per quiet minute with `run --push`, and how long a fill
takes from the venue to the journal with push against polling.

The runner runs as `okx-fsm run --push` does (a thread here), against the simulator's private channel.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from exchange import OkxClient, OkxOrder
from exchange.sim import Simulator
from exchange.ws import ORDERS, OkxPrivateStream
from fsm.service.push import PushFeed
from fsm.service.runner import Runner, RunOptions

MACHINE = "eth_robust_twap_15m"


def _runner(sim: Simulator, state_dir: Path, *, interval_s: float, reconcile_s: float) -> Runner:
    client = OkxClient(sim.api_key, sim.secret_key, sim.passphrase, base_url=sim.base_url, armed=True)

    def feed(on_push: Callable[[OkxOrder], None]) -> PushFeed:
        stream = OkxPrivateStream(
            sim.ws_url, sim.api_key, sim.secret_key, sim.passphrase, channel=ORDERS, now_ms=client.now_ms
        )
        return PushFeed(stream, on_push=on_push)

    options = RunOptions(submit=True, interval_s=interval_s, ticks=0, push_reconcile_s=reconcile_s)
    return Runner([MACHINE], state_dir, client, options, push=feed)


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
