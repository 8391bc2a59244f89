"""The reconcile tick: lock, load, observe, fire until quiet, persist as units.

Persistence lives here, around the trigger, never inside a transitions callback. Records are buffered
with the snapshot after each, and written as one unit (one append, one fsync, then one state-file
replace): before every POST (the write-ahead record), and at the end of the tick. So a transition and
its actions' records reach the journal together or not at all, and a crash at any point leaves a
journal that is never behind the state; what a lost unit recorded is observed again from OKX.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fsm.engine.actions import ACTIONS, ActionEnv, TradingClient
from fsm.engine.guards import GUARDS, TickContext
from fsm.engine.machine import LoadedMachine
from fsm.engine.observe import Commit, observe_close, observe_fills, observe_position, observe_rungs
from fsm.engine.runtime import MachineRuntime, Preview
from fsm.engine.state import LadderState
from fsm.engine.view import ExchangeView
from fsm.errors import EngineError, StateCorrupt
from fsm.persist.journal import Event
from fsm.persist.store import StateStore

MAX_FIRES_PER_TICK = 16


class SpecLoopError(EngineError):
    """The ladder kept firing within one tick: the YAML has a cycle of rows that always pass."""

    exit_code = 2


@dataclass(frozen=True)
class Fired:
    """One transition a tick made."""

    index: int
    source: str
    dest: str
    description: str


@dataclass
class TickResult:
    machine: str
    before: str
    after: str
    fired: list[Fired] = field(default_factory=list)
    journaled: list[str] = field(default_factory=list)  # kinds of the records this tick appended
    rolled_forward: int = 0
    state: LadderState = field(default_factory=LadderState)


def load_state(store: StateStore) -> LadderState:
    """Open the store (lock, verify, roll forward) and type its snapshot."""
    snapshot = store.open()
    return LadderState() if snapshot is None else typed_state(store, snapshot)


def typed_state(store: StateStore, snapshot: dict[str, Any]) -> LadderState:
    try:
        return LadderState.from_dict(snapshot)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise StateCorrupt(store.state_path, f"snapshot does not match the state model ({exc!r})") from exc


def read_state_unlocked(machine: LoadedMachine) -> tuple[LadderState, dict[str, Any] | None]:
    """The last saved state without taking the lock (a runner may hold it): local files only."""
    store = StateStore(machine.state_path, machine.identity, allow_spec_change=True)
    peeked = store.peek()
    if peeked is None:
        return LadderState(), None
    snapshot, cursor = peeked
    return typed_state(store, snapshot), {"seq": cursor.seq, "hash": cursor.hash}


def _bind(
    ctx: TickContext, env: ActionEnv
) -> tuple[dict[str, Callable[[], bool]], dict[str, Callable[[], None]]]:
    """Zero-argument callables for the runtime: guards see the tick's context, actions its env."""

    def guard(g: Callable[[TickContext], bool]) -> Callable[[], bool]:
        return lambda: g(ctx)

    def action(a: Callable[[ActionEnv], None]) -> Callable[[], None]:
        return lambda: a(env)

    return {n: guard(g) for n, g in GUARDS.items()}, {n: action(a) for n, a in ACTIONS.items()}


@contextmanager
def open_machine_state(
    machine: LoadedMachine, *, allow_spec_change: bool = False
) -> Iterator[tuple[StateStore, LadderState]]:
    """The locked store and typed state of one machine, for the length of a with-block."""
    store = StateStore(machine.state_path, machine.identity, allow_spec_change=allow_spec_change)
    try:
        state = load_state(store)
        yield store, state
    finally:
        store.close()


def run_tick(
    machine: LoadedMachine,
    store: StateStore,
    state: LadderState,
    view: ExchangeView,
    *,
    trader: TradingClient | None,
    adopt: bool = False,
) -> TickResult:
    """One tick of one machine whose store is open and locked. Armed exactly when a trader is given;
    `adopt` lets the first send take over orders of ours that the state does not know."""
    result = TickResult(
        machine=machine.name,
        before=state.state,
        after=state.state,
        rolled_forward=store.rolled_forward,
        state=state,
    )

    pending: list[Event] = []

    def commit(kind: str, data: dict[str, Any]) -> None:
        pending.append((kind, data, state.to_dict(), view.now_ms()))
        result.journaled.append(kind)

    def flush() -> None:
        if pending:
            store.commit_many(pending)
            pending.clear()

    try:
        _run(machine, store, state, view, trader, adopt, commit, flush, result)
    except BaseException:
        with contextlib.suppress(Exception):  # what was observed stays on the record when the tick fails
            flush()
        raise
    flush()
    return result


def _run(
    machine: LoadedMachine,
    store: StateStore,
    state: LadderState,
    view: ExchangeView,
    trader: TradingClient | None,
    adopt: bool,
    commit: Commit,
    flush: Callable[[], None],
    result: TickResult,
) -> None:
    """Observe, then fire rows until quiet; every record goes through `commit` (flushed by the caller)."""
    if store.spec_changed_from is not None:  # accepted by the operator: on the record before anything else
        commit(
            "operator",
            {
                "command": "accept-spec-change",
                "spec_hash_from": store.spec_changed_from,
                "spec_hash_to": machine.spec.spec_hash,
                "spec": str(machine.spec.path),
            },
        )
        store.spec_changed_from = None
    ctx = TickContext(params=machine.params, state=state, view=view, armed=trader is not None, adopt=adopt)
    env = ActionEnv(ctx=ctx, order_spec=machine.order_spec, commit=commit, trader=trader, flush=flush)
    observe(ctx, machine, commit)
    guards, actions = _bind(ctx, env)
    runtime = MachineRuntime(machine.spec, guards=guards, actions=actions)
    runtime.set_state(state.state)
    for _ in range(MAX_FIRES_PER_TICK):
        source = state.state
        row = runtime.fire("tick")
        if row is None:
            break
        state.state = runtime.state
        result.fired.append(Fired(row.index, source, state.state, row.description))
        commit(
            "transition",
            {
                "from": source,
                "to": state.state,
                "row": row.index,
                "guards": list(row.guards),
                "unless": list(row.unless),
                "actions": list(row.actions),
            },
        )
        # What the transition changed may change what OKX must be asked next (e.g. positions).
        observe_position(ctx, commit)
    else:
        raise SpecLoopError(f"{machine.spec.path}: more than {MAX_FIRES_PER_TICK} transitions in one tick")
    _remember_evaluated_candle(ctx, commit)
    result.after = state.state


def observe(ctx: TickContext, machine: LoadedMachine, commit: Commit) -> None:
    """Step 3 of the tick: bring rungs, fills and position up to what OKX shows."""
    # Exchange time first (every tick needs it anyway): it re-syncs the signing clock, so the signed
    # reads below are not refused with 50102 and sent twice when the local clock is off.
    ctx.view.now_ms()
    observe_rungs(ctx, machine.order_spec, commit)
    observe_fills(ctx, commit)
    observe_position(ctx, commit)
    observe_close(ctx, commit)


def _remember_evaluated_candle(ctx: TickContext, commit: Commit) -> None:
    """In idle, record the newest confirmed candle looked at, so later ticks skip the candle request."""
    s, p = ctx.state, ctx.params
    if s.state != "idle" or not ctx.view.fetched("candles"):
        return
    confirmed = [c.ts for c in ctx.view.candles(p.symbol, p.bar, p.signal.lookback_bars + 2) if c.confirm]
    if confirmed and (s.last_evaluated_candle_ts is None or max(confirmed) > s.last_evaluated_candle_ts):
        s.last_evaluated_candle_ts = max(confirmed)
        commit("observe", {"last_evaluated_candle_ts": s.last_evaluated_candle_ts})


def preview_tick(machine: LoadedMachine, view: ExchangeView, state: LadderState) -> Preview:
    """Which row would fire now and every guard's value; observes into a copy, writes and sends nothing."""
    shadow = LadderState.from_dict(state.to_dict())
    ctx = TickContext(params=machine.params, state=shadow, view=view, armed=False)

    def discard(kind: str, data: dict[str, Any]) -> None:
        return None

    env = ActionEnv(ctx=ctx, order_spec=machine.order_spec, commit=discard, trader=None)
    observe(ctx, machine, discard)
    guards, actions = _bind(ctx, env)
    runtime = MachineRuntime(machine.spec, guards=guards, actions=actions)
    runtime.set_state(shadow.state)
    return runtime.preview("tick")
