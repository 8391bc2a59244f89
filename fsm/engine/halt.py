"""The operator's account marks: `halt` (the kill switch) sets the account HALTED at once and
withdraws every machine's working entries (with --flatten, exits every machine's own size too);
`reduce` sets it REDUCING (no new entries; working entries withdrawn unless a machine's on_reducing is
`keep`; exits and stops go on); `resume --account` clears either.

A running runner holds the account journal, so the mark goes through its spool and its next round
carries it out (its ticks cancel the entries; --flatten queues each machine's own flatten). Otherwise
the mark is journaled here and each named machine is ticked armed through the same code paths
(`control.flatten`, the tick's withdrawal). Either way the verdict is OKX's: the command waits until
OKX lists no working entry it withdraws (and, with --flatten, every machine's own fills are flat).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from fsm.engine import control
from fsm.engine.actions import KEEP_ENTRIES
from fsm.engine.machine import LoadedMachine
from fsm.engine.tick import open_machine_state, run_tick
from fsm.engine.view import ExchangeView
from fsm.errors import StateLocked
from fsm.persist import spool
from fsm.risk.exposure import saved_machines
from fsm.risk.ledger import Ledger, account_path, judge

if TYPE_CHECKING:
    from exchange import OkxClient

LOCK_TRIES = 10  # a command's own hold on the account journal lasts a moment: tried again before
LOCK_WAIT_S = 0.2  # concluding that a runner holds it
POLL_S = 0.5


@dataclass(frozen=True)
class Standing:
    """One machine as OKX and its own fills show it after the halt."""

    name: str
    working: tuple[str, ...]  # clOrdIds of its entries OKX still lists as pending
    own: Decimal  # what its own fills still hold
    flatten: bool
    acted: bool = True  # False: no machine YAML was found for its state file, nothing was sent for it
    keeps: bool = False  # reduce, with on_reducing `keep`: its working entries rest

    @property
    def done(self) -> bool:
        return (self.keeps or not self.working) and (not self.flatten or self.own == 0)

    def line(self) -> str:
        working = f"{len(self.working)} working entr{'y' if len(self.working) == 1 else 'ies'} on OKX"
        if self.working:
            working += f" ({', '.join(self.working)})"
        if self.keeps:
            working += f" rest (on_reducing: {KEEP_ENTRIES})"
        held = f"own size {self.own}" + (" (flat)" if self.own == 0 else "")
        verdict = "done" if self.done else "NOT done"
        note = "" if self.acted else "; no machine YAML found for it: name it (okx-fsm halt PATH ...)"
        return f"{self.name}: {verdict}: {working}, {held}{note}"


def _entry_side(rungs_payloads: Sequence[Mapping[str, object]]) -> str | None:
    return next((str(p["side"]) for p in rungs_payloads if p.get("side")), None)


def standings(
    state_dir: Path,
    view: ExchangeView,
    flatten: bool,
    names: dict[Path, str],
    by_runner: bool,
    keeping: frozenset[Path] = frozenset(),
) -> list[Standing]:
    """Every machine in the state directory as OKX shows it now (pending orders read fresh); one the
    command could not act on (no YAML named or found, and no runner) is marked so; one in `keeping`
    (reduce, on_reducing `keep`) may leave its working entries resting."""
    pending = {o.clOrdId for o in view.venue_pending_all() if o.clOrdId}
    out = []
    for path, held in saved_machines(state_dir):
        s = held.state
        side = _entry_side([r.payload for r in s.rungs])
        own = Decimal(0) if side is None else s.own_open(side)
        working = tuple(sorted(r.clOrdId for r in s.rungs if r.clOrdId in pending))
        acted = by_runner or path in names
        out.append(Standing(names.get(path, path.stem), working, own, flatten, acted, path in keeping))
    return out


def mark_account(state_dir: Path, command: str, now_ms: int, *, flatten: bool = False) -> Ledger | None:
    """Journal the operator's mark and the trading state it makes; None when a runner holds the
    account journal (the mark is then queued in its spool)."""
    for attempt in range(LOCK_TRIES):
        try:
            ledger = Ledger(state_dir).open()
        except StateLocked:
            if attempt < LOCK_TRIES - 1:
                time.sleep(LOCK_WAIT_S)
            continue
        try:
            ledger.mark(command, now_ms, f"direct{spool.new_id()}", flatten=flatten)
            ledger.settle(judge(ledger.book, state_dir, None, now_ms), now_ms)  # the limits: next tick
            return ledger
        finally:
            ledger.close()
    spool.enqueue(account_path(state_dir), command, commands=spool.ACCOUNT_COMMANDS, flatten=flatten)
    return None


def _tick_each(machines: Sequence[LoadedMachine], client: OkxClient, flatten: bool, first: bool) -> None:
    """One armed tick of each machine (the first with --flatten goes through `control.flatten`)."""
    for machine in machines:
        try:
            with open_machine_state(machine) as (store, state):
                if first and flatten:
                    try:
                        control.flatten(machine, store, state, client)
                        continue
                    except control.NothingToDo:
                        pass
                run_tick(machine, store, state, ExchangeView(client), trader=client)
        except StateLocked:
            continue  # a runner ticks it (its own halt comes through the account journal)


def set_account(
    state_dir: Path,
    command: Literal["halt", "reduce"],
    machines: Sequence[LoadedMachine],
    client: OkxClient,
    *,
    flatten: bool,
    ceiling_s: float,
) -> tuple[bool, list[Standing]]:
    """Set HALTED (`halt`) or REDUCING (`reduce`), withdraw the working entries that state withdraws
    (and with `flatten` exit every own size), and wait up to `ceiling_s` for OKX to agree. Returns
    (through a runner, each machine's standing)."""
    view = ExchangeView(client)
    direct = mark_account(state_dir, command, view.now_ms(), flatten=flatten) is not None
    names = {m.state_path: m.name for m in machines}
    keeping = frozenset(
        m.state_path for m in machines if command == "reduce" and m.params.on_reducing == KEEP_ENTRIES
    )
    deadline = time.monotonic() + ceiling_s
    first = True
    while True:
        if direct:
            _tick_each(machines, client, flatten, first)
            first = False
        found = standings(state_dir, ExchangeView(client), flatten, names, not direct, keeping)
        if all(s.done for s in found) or time.monotonic() >= deadline:
            return not direct, found
        time.sleep(POLL_S)
