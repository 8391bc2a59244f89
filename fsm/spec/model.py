"""The validated machine: immutable specs of states, rows and ignores, and the roles the engine reads.

A state's name belongs to the YAML alone. What a state means to the engine is declared beside it: a
ladder state lists what the tick `tracks` in it, an order or stop state has a `role`. Python reads
those, never a name, so a renamed state keeps its meaning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fsm.errors import EngineError, ExitStatus

Kind = Literal["ladder", "order", "stop"]
KINDS: tuple[Kind, ...] = ("ladder", "order", "stop")

# What a ladder state may track: the tick observes exactly these on OKX while the machine is in it.
TRACKS = ("signal", "orders", "fills", "position", "stop")
# What an order state may be: not sent yet; sent with its outcome not known (OKX's "does not exist"
# counts only after the request's deadline); resting on the book; ended (filled or canceled, fills
# kept); or refused (ended without ever working: an explicit rejection, a post-only cross).
ORDER_ROLES = ("unsent", "in_flight", "resting", "ended", "refused")
# What a stop (an OKX algo order) state may be: not sent yet; sent with its outcome not known; unseen
# (sent, and OKX shows no algo by its algoClOrdId yet: the same request goes again, since OKX refuses
# a second live algo with that algoClOrdId); working (live on OKX, untriggered); cancel_requested (our
# cancel sent); fired (OKX placed its child order, whose fills are the cycle's exit); ended (canceled);
# refused (never worked, or its child order could not be placed).
STOP_ROLES = ("unsent", "in_flight", "unseen", "working", "cancel_requested", "fired", "ended", "refused")
ROLES: Mapping[str, tuple[str, ...]] = {"order": ORDER_ROLES, "stop": STOP_ROLES}
TERMINAL_ROLES = frozenset({"ended", "refused", "fired"})


class SpecError(EngineError):
    """A refused machine file; the message names the file, the row or state (and its line), the field."""

    exit_code = ExitStatus.USAGE

    def __init__(self, path: Path, where: str, line: int | None, field: str, problem: str) -> None:
        self.path = path
        self.where = where
        self.line = line
        self.field = field
        self.problem = problem
        at_line = f"line {line}" if line else ""
        place = f"{where} ({at_line})" if where and at_line else where or at_line
        super().__init__(": ".join(part for part in (str(path), place, field, problem) if part))


@dataclass(frozen=True)
class Needs:
    """What a guard or action needs of the states its row joins: the source state must track `reads`
    (the guard or action reads them this tick), the dest state must track `follows` (what the action
    leaves on OKX must be followed there)."""

    reads: frozenset[str] = frozenset()
    follows: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Vocabulary:
    """The guards and actions an engine implements, by name, with what each needs."""

    guards: Mapping[str, Needs] = field(default_factory=dict)
    actions: Mapping[str, Needs] = field(default_factory=dict)


@dataclass(frozen=True)
class StateSpec:
    index: int
    line: int
    name: str
    description: str
    tracks: frozenset[str]  # ladder states: what the tick observes here
    role: str | None  # order and stop states: one of ROLES[kind]

    @property
    def where(self) -> str:
        return f"states[{self.index}] (line {self.line})"

    @property
    def terminal(self) -> bool:
        return self.role in TERMINAL_ROLES


@dataclass(frozen=True)
class RowSpec:
    """One transition row; `index` is its position in `transitions`, which is its priority."""

    index: int
    line: int
    trigger: str
    sources: tuple[str, ...]
    dest: str
    guards: tuple[str, ...]
    unless: tuple[str, ...]
    actions: tuple[str, ...]
    description: str

    @property
    def where(self) -> str:
        return f"transitions[{self.index}] (line {self.line})"

    @property
    def label(self) -> str:
        """`trigger [guard, !unless] / action`: how diagrams and previews show the row."""
        conditions = [*self.guards, *(f"!{name}" for name in self.unless)]
        text = self.trigger + (f" [{', '.join(conditions)}]" if conditions else "")
        return text + (f" / {', '.join(self.actions)}" if self.actions else "")


@dataclass(frozen=True)
class IgnoreSpec:
    """(trigger, source) pairs declared no-ops (order and stop machines only)."""

    index: int
    line: int
    trigger: str
    sources: tuple[str, ...]
    description: str

    @property
    def where(self) -> str:
        return f"ignore[{self.index}] (line {self.line})"


@dataclass(frozen=True)
class MachineSpec:
    name: str
    kind: Kind
    description: str
    initial: str
    states: tuple[StateSpec, ...]
    rows: tuple[RowSpec, ...]
    ignores: tuple[IgnoreSpec, ...]
    params: Mapping[str, Any]  # ladder: checked; decimals are Decimal, lists tuples; order, stop: empty
    path: Path  # this machine's own file
    files: tuple[Path, ...]  # every file read: the root parent first (it declares states and rows), path last
    spec_hash: str  # sha256 hex of the file's bytes; extending, of every file's digest in order
    params_at: Mapping[str, tuple[Path, int | None]] = field(default_factory=dict)  # file, line per param

    @property
    def rows_file(self) -> Path:
        """The file that declares the states and rows (the root of an `extends` chain)."""
        return self.files[0]

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(state.name for state in self.states)

    @property
    def triggers(self) -> tuple[str, ...]:
        """Every trigger a row or an ignore names, in order of first appearance."""
        names = [row.trigger for row in self.rows] + [ignore.trigger for ignore in self.ignores]
        return tuple(dict.fromkeys(names))

    def param_refused(self, key: str, problem: str) -> SpecError:
        """A param's value refused only once OKX is asked (the instrument's limits), named at the file
        and line that gave it."""
        path, line = self.params_at.get(key, (self.path, None))
        return SpecError(path, "params", line, key, problem)

    def state(self, name: str) -> StateSpec:
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(f"machine {self.name} has no state {name!r}")

    def rows_from(self, state: str, trigger: str) -> tuple[RowSpec, ...]:
        """The candidate rows for `trigger` in `state`, in priority order."""
        return tuple(row for row in self.rows if row.trigger == trigger and state in row.sources)

    def tracks(self, state: str, what: str) -> bool:
        """Whether the tick observes `what` (one of TRACKS) in ladder state `state`."""
        return what in self.state(state).tracks

    def with_role(self, *roles: str) -> frozenset[str]:
        """The names of the order (or stop) states whose role is one of `roles`."""
        return frozenset(state.name for state in self.states if state.role in roles)
