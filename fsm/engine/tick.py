"""The reconcile tick: lock, load, observe, fire until quiet, persist as units.

Records are buffered and written as one unit (one append, one fsync, then one state-file replace),
whose last record carries the state as the unit's last record left it, at two points only: inside
an action, just before it POSTs (the write-ahead: the action calls `flush`), and at the end of the
tick. So a transition and its actions'
records reach the journal together or not at all, and a crash at any point leaves a journal that is
never behind the state; what a lost unit recorded is observed again from OKX.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from fsm.engine.actions import withdraw_entries
from fsm.engine.context import TickContext
from fsm.engine.env import ActionEnv, TradingClient
from fsm.engine.machine import TICK, LoadedMachine
from fsm.engine.observe import Commit, observe_close, observe_fills, observe_position, observe_rungs
from fsm.engine.observe_stop import observe_stops
from fsm.engine.runtime import Preview
from fsm.engine.state import LadderState
from fsm.engine.view import ExchangeView
from fsm.errors import StateCorrupt
from fsm.persist.journal import Event
from fsm.persist.store import Segments, StateStore
from fsm.risk.ledger import current_trading
from fsm.risk.trading import Trading
from fsm.spec.model import RowSpec

MAX_FIRES_PER_TICK = 16


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
    state: LadderState
    fired: list[Fired] = field(default_factory=list)
    journaled: list[str] = field(default_factory=list)  # kinds of the records this tick appended
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # the same, with their data
    rolled_forward: int = 0


def load_state(machine: LoadedMachine, store: StateStore) -> LadderState:
    """Open the store (lock, verify, roll forward) and type its snapshot."""
    snapshot = store.open()
    return machine.fresh_state() if snapshot is None else typed_state(store, snapshot)


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
        return machine.fresh_state(), None
    snapshot, cursor = peeked
    return typed_state(store, snapshot), {"seq": cursor.seq, "hash": cursor.hash}


@contextmanager
def open_machine_state(
    machine: LoadedMachine, *, allow_spec_change: bool = False, durable: bool = True
) -> Iterator[tuple[StateStore, LadderState]]:
    """The locked store and typed state of one machine, for the length of a with-block (fsynced unless
    not `durable`: a replay's, made again at will)."""
    segments = machine.params.journal_segments
    store = StateStore(
        machine.state_path,
        machine.identity,
        allow_spec_change=allow_spec_change,
        segments=None if segments == "none" else cast(Segments, segments),
        durable=durable,
    )
    try:
        state = load_state(machine, store)
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
    trading: Trading | None = None,
) -> TickResult:
    """One tick of one machine whose store is open and locked. Armed exactly when a trader is given;
    `adopt` lets the first send take over orders of ours that the state does not know. `trading` is
    the account's trading state (a runner's, judged once a round); None: judged here."""
    result = TickResult(
        machine=machine.name,
        before=state.state,
        after=state.state,
        rolled_forward=store.rolled_forward,
        state=state,
    )

    pending: list[Event] = []
    snapshot: list[dict[str, Any]] = []  # the state as the last record left it: the unit's snapshot

    def commit(kind: str, data: dict[str, Any]) -> None:
        pending.append((kind, data, view.now_ms()))
        snapshot[:] = [state.to_dict()]
        result.journaled.append(kind)
        result.records.append((kind, data))

    def flush() -> None:
        if pending:
            store.commit_many(pending, snapshot[0])
            pending.clear()

    try:
        if trading is None:
            trading = current_trading(machine.state_path.parent, machine.limits, view.now_ms())
        _run(machine, store, state, view, trader, adopt, trading, commit, flush, result)
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
    trading: Trading,
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
    ctx = machine.context(state, view, armed=trader is not None, adopt=adopt, trading=trading)
    env = ActionEnv(ctx=ctx, commit=commit, trader=trader, flush=flush)
    observe(ctx, commit)
    if trader is not None:
        withdraw_entries(env, trading)
    runtime = machine.runtime
    runtime.set_state(state.state)

    def journal_transition(row: RowSpec) -> None:
        source, state.state = state.state, runtime.state
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

    runtime.fire_until_quiet(TICK, MAX_FIRES_PER_TICK, ctx=ctx, env=env, after_each=journal_transition)
    _remember_evaluated_candle(ctx, commit)
    result.after = state.state


def observe(ctx: TickContext, commit: Commit) -> None:
    """Step 3 of the tick: bring what the current state tracks up to what OKX shows."""
    # Exchange time first (every tick needs it anyway): it re-syncs the signing clock, so the signed
    # reads below are not refused with 50102 and sent twice when the local clock is off.
    ctx.view.now_ms()
    observe_rungs(ctx, commit)
    observe_stops(ctx, commit)  # before the fills: a fired stop's child orders own fills of ours
    observe_fills(ctx, commit)
    observe_position(ctx, commit)
    observe_close(ctx, commit)


def _remember_evaluated_candle(ctx: TickContext, commit: Commit) -> None:
    """Where the signal is tracked, record the newest confirmed candle looked at, so later ticks skip
    the candle request."""
    s, p = ctx.state, ctx.params
    if not ctx.tracks("signal") or not ctx.view.fetched("candles"):
        return
    confirmed = [c.ts for c in ctx.view.candles(p.symbol, p.bar, p.signal.candles_limit) if c.confirm]
    if confirmed and (s.last_evaluated_candle_ts is None or max(confirmed) > s.last_evaluated_candle_ts):
        s.last_evaluated_candle_ts = max(confirmed)
        commit("observe", {"last_evaluated_candle_ts": s.last_evaluated_candle_ts})


def preview_tick(machine: LoadedMachine, view: ExchangeView, state: LadderState) -> Preview:
    """Which row would fire now and every guard's value; observes into a copy, writes and sends nothing."""
    shadow = LadderState.from_dict(state.to_dict())
    ctx = machine.context(shadow, view, armed=False)

    def discard(kind: str, data: dict[str, Any]) -> None:
        return None

    observe(ctx, discard)
    machine.runtime.set_state(shadow.state)
    return machine.runtime.preview(TICK, ctx=ctx)
