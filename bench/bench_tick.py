"""Requests and wall time of one steady-state reconcile tick with entries open (not run by pytest).

    .venv/bin/python -m bench.bench_tick [--ticks 50]

Starts the simulator (manual clock), opens a ladder cycle with --submit semantics, then measures
ticks in which nothing changes: the OKX requests each makes (from the simulator's /sim/stats) and
its wall time on loopback.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from exchange import OkxClient
from exchange.sim import Simulator
from fsm.engine.machine import load_machine
from fsm.engine.tick import open_machine_state, run_tick
from fsm.engine.view import ExchangeView


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=50)
    args = parser.parse_args()
    with Simulator(seed=7, clock="manual", start_px="3000", rate_limits=False) as sim:
        client = OkxClient(sim.api_key, sim.secret_key, sim.passphrase, base_url=sim.base_url, armed=True)
        machine = load_machine("eth_robust_twap_15m", state_dir=Path(tempfile.mkdtemp()))
        sim.set_price(Decimal(sim.state()["px"]) + 10)
        sim.advance(900)
        with open_machine_state(machine) as (store, state):
            run_tick(machine, store, state, ExchangeView(client), trader=client)
            run_tick(machine, store, state, ExchangeView(client), trader=client)  # first mirror of OKX fields
            assert state.state == "entries_open", state.state
            per_tick: list[dict[str, int]] = []
            seconds: list[float] = []
            for _ in range(args.ticks):
                before = dict(sim.stats()["requests"])
                started = time.perf_counter()
                result = run_tick(machine, store, state, ExchangeView(client), trader=client)
                seconds.append(time.perf_counter() - started)
                after = sim.stats()["requests"]
                per_tick.append({k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)})
                assert result.fired == [] and result.journaled == []
    totals = [sum(d.values()) for d in per_tick]
    print(f"steady-state ticks with entries open: {args.ticks}")
    print(f"OKX requests per tick: {set(totals)} -> {per_tick[-1]}")
    print(
        f"wall time per tick (loopback): median {statistics.median(seconds) * 1000:.1f} ms, "
        f"max {max(seconds) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
