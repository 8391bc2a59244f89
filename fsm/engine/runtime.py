"""A `MachineSpec` run on a `transitions.Machine`: restore a state, preview the next row, fire it.

Rows are added in YAML order and transitions tries them in that order, so YAML order is priority.
Guards become conditions and unless, actions run as `after` callbacks. Nothing is persisted here:
the caller saves after each fire, so a failing save can never be swallowed by a callback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from transitions import Machine

from fsm.errors import EngineError
from fsm.spec.loader import MachineSpec, RowSpec

Guard = Callable[[], bool]
Action = Callable[[], None]


class MachineLoopError(EngineError):
    """Rows kept firing past the bound: the spec (or its guards) loops."""


@dataclass(frozen=True)
class Candidate:
    """One row that could fire from the current state, with the value of each of its guards."""

    row: RowSpec
    guards: tuple[tuple[str, bool], ...]
    unless: tuple[tuple[str, bool], ...]

    @property
    def passes(self) -> bool:
        return all(value for _, value in self.guards) and not any(value for _, value in self.unless)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.row.index,
            "line": self.row.line,
            "dest": self.row.dest,
            "label": self.row.label,
            "guards": dict(self.guards),
            "unless": dict(self.unless),
            "passes": self.passes,
        }


@dataclass(frozen=True)
class Preview:
    """What `fire(trigger)` would do now; computed by evaluating guards only."""

    state: str
    trigger: str
    candidates: tuple[Candidate, ...]

    @property
    def fires(self) -> RowSpec | None:
        return next((c.row for c in self.candidates if c.passes), None)

    def to_dict(self) -> dict[str, Any]:
        fires = self.fires
        return {
            "state": self.state,
            "trigger": self.trigger,
            "fires": None if fires is None else fires.index,
            "candidates": [c.to_dict() for c in self.candidates],
        }


class _Model:
    """The object transitions keeps the current state on."""

    state: str


class MachineRuntime:
    """One machine instance: a spec bound to guard and action callables (closures over the tick)."""

    def __init__(self, spec: MachineSpec, guards: Mapping[str, Guard], actions: Mapping[str, Action]) -> None:
        for kind, wanted, given in (
            ("guard", {g for row in spec.rows for g in (*row.guards, *row.unless)}, guards),
            ("action", {a for row in spec.rows for a in row.actions}, actions),
        ):
            missing = sorted(wanted - set(given))
            if missing:
                raise ValueError(f"machine {spec.name}: no {kind} given for {', '.join(missing)}")
        self.spec = spec
        self._guards = {name: _checked(name, fn) for name, fn in guards.items()}
        self._model = _Model()
        self._fired: RowSpec | None = None
        self._machine = Machine(
            model=self._model,
            states=list(spec.state_names),
            initial=spec.initial,
            auto_transitions=False,
            send_event=False,
            queued=False,
            ignore_invalid_triggers=True,
        )
        for row in spec.rows:
            self._machine.add_transition(
                row.trigger,
                list(row.sources),
                row.dest,
                conditions=[self._guards[name] for name in row.guards],
                unless=[self._guards[name] for name in row.unless],
                before=[self._recorder(row)],
                after=[actions[name] for name in row.actions],
            )

    @property
    def state(self) -> str:
        return self._model.state

    def set_state(self, name: str) -> None:
        """Restore a persisted state (no callbacks run)."""
        if name not in self.spec.state_names:
            raise ValueError(f"machine {self.spec.name} has no state {name!r}")
        self._machine.set_state(name, model=self._model)

    def preview(self, trigger: str = "tick") -> Preview:
        """Each candidate row in priority order with every guard's value; fires nothing, runs no action."""
        values: dict[str, bool] = {}

        def value(name: str) -> bool:
            if name not in values:
                values[name] = self._guards[name]()
            return values[name]

        self._check_trigger(trigger)
        candidates = tuple(
            Candidate(
                row=row,
                guards=tuple((name, value(name)) for name in row.guards),
                unless=tuple((name, value(name)) for name in row.unless),
            )
            for row in self.spec.rows_from(self.state, trigger)
        )
        return Preview(state=self.state, trigger=trigger, candidates=candidates)

    def fire(self, trigger: str = "tick") -> RowSpec | None:
        """Fire the first row whose guards pass and return it (None: nothing passed, the state stays).

        An exception from a guard or an action reaches the caller, and the state is put back to what it
        was before the transition started.
        """
        self._check_trigger(trigger)
        if not self.spec.rows_from(self.state, trigger):
            return None
        before = self.state
        self._fired = None
        try:
            fired = self._machine.events[trigger].trigger(self._model)
        except BaseException:
            self._machine.set_state(before, model=self._model)
            raise
        return self._fired if fired else None

    def fire_until_quiet(
        self,
        trigger: str = "tick",
        limit: int = 16,
        *,
        after_each: Callable[[RowSpec], None] | None = None,
    ) -> list[RowSpec]:
        """Fire until no row passes; `after_each` (e.g. the save) runs after every fire.

        Raises MachineLoopError when `limit` rows have fired and another would still fire.
        """
        start = self.state
        fired: list[RowSpec] = []
        while (row := self.fire(trigger)) is not None:
            fired.append(row)
            if after_each is not None:
                after_each(row)
            if len(fired) >= limit and self.preview(trigger).fires is not None:
                path = " -> ".join([start, *(r.dest for r in fired)])
                raise MachineLoopError(
                    f"machine {self.spec.name}: {limit} rows fired on {trigger!r} in one go and another "
                    f"would still fire ({path}); the spec or its guards loop"
                )
        return fired

    def _check_trigger(self, trigger: str) -> None:
        if trigger not in self._machine.events:
            raise ValueError(f"machine {self.spec.name} has no trigger {trigger!r}")

    def _recorder(self, row: RowSpec) -> Callable[[], None]:
        def record() -> None:
            self._fired = row

        return record


def _checked(name: str, guard: Guard) -> Guard:
    """A guard that must answer a real bool (a None or a Decimal is a bug, not an answer)."""

    def check() -> bool:
        value = guard()
        if not isinstance(value, bool):
            raise TypeError(f"guard {name} returned {type(value).__name__}, not bool")
        return value

    return check
