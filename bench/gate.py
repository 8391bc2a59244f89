"""The hard limits' side of `make bench`: the gate's CPU per POST and per tick against a tick's engine
time, and the OKX requests of a quiet round with limits on against the same round without them.

Per tick, the gate is the account's trading state (`current_trading`: the account journal and the day's
realized losses, judged in every tick); per POST, it is `entries_refusal` (every machine's state file,
OKX's positions and pending orders, the leverage, the checks) for a machine about to send its rungs,
beside two machines with entries open. Both are timed on answers replayed from memory, as the engine's
CPU is (bench.engine), so what is timed is the engine, not loopback HTTP or the simulator.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from bench import engine
from fsm.engine.env import TradingClient
from fsm.engine.machine import load_machine
from fsm.engine.state import LadderState
from fsm.engine.tick import run_tick
from fsm.engine.view import ExchangeView, TimeSync
from fsm.persist.store import StateStore
from fsm.risk.entries import entries_refusal
from fsm.risk.ledger import current_trading
from fsm.spec.limits import LimitsFile, load_limits

# Every key the gate judges per request or per tick, none of them binding: the bench times passing requests.
LIMITS = """account:
  max_order_notional: "1000"
  max_open_notional: "100000"
  max_leverage: 10
  max_daily_loss: "1000"
  max_drawdown: "1000"
machine:
  max_cycle_notional: "1000"
  cooldown_after_losses: {count: 3, bars: 8}
"""


@dataclass(frozen=True)
class GateCost:
    """CPU ms of the gate and of the tick it runs in."""

    per_tick_ms: float  # the trading state, judged in a quiet tick
    quiet_tick_ms: float  # the engine's quiet tick with limits on (the trading state included)
    per_post_ms: float  # the gate's verdict on one batch of rendered rungs
    submit_tick_ms: float  # the engine's tick that renders nothing new and sends that batch (gate included)


def write_limits(folder: Path) -> LimitsFile:
    path = folder / "limits.yaml"
    path.write_text(LIMITS)
    return load_limits(path)


def cost(iterations: int = 1000) -> GateCost:
    """The gate's CPU per tick and per POST, and the ticks' engine CPU they are part of."""
    limits = write_limits(Path(tempfile.mkdtemp(prefix="okx-fsm-bench-limits-")))
    with engine.account_with_entries_open(2, limits) as account:
        replay = engine.Replay(account.client)
        sync = TimeSync(interval_s=1e9)
        quiet_ms = engine.quiet_tick_ms(account, replay, sync, iterations)
        machine = account.machines[0]
        state_dir, now_ms = machine.state_path.parent, ExchangeView(replay, time_sync=sync).now_ms()
        per_tick = engine.best_ms(lambda: current_trading(state_dir, machine.limits, now_ms), iterations)

        # A third machine with its rungs rendered, about to send them beside the two with entries open.
        path = engine.write_machines(account.paths[0].parent, 1, first=len(account.paths))[0]
        sender = load_machine(str(path), state_dir=state_dir, limits=limits)
        store = StateStore(sender.state_path, sender.identity)
        try:
            state = (
                sender.fresh_state()
                if (snapshot := store.open()) is None
                else LadderState.from_dict(snapshot)
            )
            run_tick(sender, store, state, ExchangeView(account.client), trader=None)
            assert state.state == "intent_rendered", state.state
            rendered = state.to_dict()
            replay.recording, replay.answers = True, {}
            trading = current_trading(state_dir, sender.limits, now_ms)

            def verdict() -> None:
                ctx = sender.context(LadderState.from_dict(rendered), view(), armed=True, trading=trading)
                assert ctx.risk is not None and entries_refusal(ctx, ctx.risk) is None

            def view() -> ExchangeView:
                return ExchangeView(replay, time_sync=sync, full=False)

            def context_only() -> None:
                sender.context(LadderState.from_dict(rendered), view(), armed=True, trading=trading)

            verdict()  # records the answers the verdict reads
            trader = cast(TradingClient, replay)

            def submit() -> None:
                sent = LadderState.from_dict(rendered)
                run_tick(sender, store, sent, view(), trader=trader)
                assert sent.state == "entries_open", sent.state

            submit()  # records the batch's answer: the same clOrdIds and expTime every time
            replay.recording = False
            posts = max(iterations // 10, 50)
            per_post = engine.best_ms(verdict, posts) - engine.best_ms(context_only, posts)
            submit_ms = engine.best_ms(submit, posts)
        finally:
            store.close()
    return GateCost(per_tick, quiet_ms, max(per_post, 0.0), submit_ms)


def quiet_requests(count: int, rounds: int) -> tuple[float, float]:
    """OKX requests per quiet round of `count` machines without limits and with them."""
    limits = write_limits(Path(tempfile.mkdtemp(prefix="okx-fsm-bench-limits-")))
    return engine.requests_per_quiet_tick(count, rounds), engine.requests_per_quiet_tick(
        count, rounds, limits
    )
