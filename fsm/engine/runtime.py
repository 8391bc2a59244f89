"""One FSM mechanism for both machines: a `MachineSpec` on a `transitions.Machine`, built once.

Built once per loaded machine and reused across ticks: the tick's context reaches guards and actions as
event data (`fire(ctx=..., env=...)`), never as closures rebuilt per tick. Rows are added in YAML order
and transitions tries them in that order, so YAML order is priority; guards become `conditions` and
`unless`, actions run as `after` callbacks. An order machine's `ignore` pairs are internal transitions
(no state change), and a trigger no row or ignore declares in the current state is an anomaly: the
state stays. `on_exception` is not used: an exception in a guard or action must reach the tick (it is
the runner's signal to back off), and `fire` puts the state back before it does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from transitions import EventData, Machine, MachineError

from fsm.errors import EngineError, ExitStatus
from fsm.spec.model import IgnoreSpec, MachineSpec, RowSpec

Guard = Callable[[Any], bool]  # called with the tick's context
Action = Callable[[Any], None]  # called with the tick's action environment
Verdict = Literal["transition", "ignore", "anomaly"]


class MachineLoopError(EngineError):
    """Rows kept firing past the bound within one go: the spec (or its guards) loops."""

    exit_code = ExitStatus.USAGE


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
    """A spec bound to guard and action functions of the tick's context; holds the current state."""

    def __init__(
        self,
        spec: MachineSpec,
        guards: Mapping[str, Guard] | None = None,
        actions: Mapping[str, Action] | None = None,
    ) -> None:
        guards, actions = guards or {}, actions or {}
        for kind, wanted, given in (
            ("guard", {g for row in spec.rows for g in (*row.guards, *row.unless)}, guards),
            ("action", {a for row in spec.rows for a in row.actions}, actions),
        ):
            missing = sorted(wanted - set(given))
            if missing:
                raise ValueError(f"machine {spec.name}: no {kind} given for {', '.join(missing)}")
        self.spec = spec
        self._guards = guards
        self._model = _Model()
        self._fired: RowSpec | IgnoreSpec | None = None
        self._machine = Machine(
            model=self._model,
            states=list(spec.state_names),
            initial=spec.initial,
            auto_transitions=False,
            send_event=True,
            queued=False,
            ignore_invalid_triggers=False,
        )
        for row in spec.rows:
            self._machine.add_transition(
                row.trigger,
                list(row.sources),
                row.dest,
                conditions=[self._condition(name) for name in row.guards],
                unless=[self._condition(name) for name in row.unless],
                before=[self._recorder(row)],
                after=[_action(actions[name]) for name in row.actions],
            )
        for ignore in spec.ignores:
            self._machine.add_transition(
                ignore.trigger, list(ignore.sources), None, before=[self._recorder(ignore)]
            )

    @property
    def state(self) -> str:
        return self._model.state

    def set_state(self, name: str) -> None:
        """Restore a persisted state (no callbacks run)."""
        if name not in self.spec.state_names:
            raise ValueError(f"machine {self.spec.name} has no state {name!r}")
        self._machine.set_state(name, model=self._model)

    def preview(self, trigger: str = "tick", *, ctx: Any = None) -> Preview:
        """Each candidate row in priority order with every guard's value; fires nothing, runs no action."""
        values: dict[str, bool] = {}

        def value(name: str) -> bool:
            if name not in values:
                values[name] = _checked(name, self._guards[name](ctx))
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

    def fire(self, trigger: str = "tick", *, ctx: Any = None, env: Any = None) -> RowSpec | None:
        """Fire the first row whose guards pass and return it (None: nothing passed, the state stays).

        An exception from a guard or an action reaches the caller, and the state is put back to what it
        was before the transition started.
        """
        self._check_trigger(trigger)
        if not self.spec.rows_from(self.state, trigger):
            return None
        fired = self._trigger(trigger, ctx, env)
        return fired if isinstance(fired, RowSpec) else None

    def fire_until_quiet(
        self,
        trigger: str = "tick",
        limit: int = 16,
        *,
        ctx: Any = None,
        env: Any = None,
        after_each: Callable[[RowSpec], None] | None = None,
    ) -> list[RowSpec]:
        """Fire until no row passes; `after_each` (e.g. journaling the transition) runs after every fire.

        Raises MachineLoopError when `limit` rows have fired and another would still fire.
        """
        start = self.state
        fired: list[RowSpec] = []
        while (row := self.fire(trigger, ctx=ctx, env=env)) is not None:
            fired.append(row)
            if after_each is not None:
                after_each(row)
            if len(fired) >= limit and self.preview(trigger, ctx=ctx).fires is not None:
                path = " -> ".join([start, *(r.dest for r in fired)])
                raise MachineLoopError(
                    f"{self.spec.path}: {limit} rows fired on {trigger!r} in one go and another "
                    f"would still fire ({path}); the spec or its guards loop"
                )
        return fired

    def observe(self, state: str, trigger: str) -> tuple[Verdict, str]:
        """An order machine's answer to one observation in `state`: a declared transition (and its dest),
        a declared no-op, or an anomaly (the state stays)."""
        self.set_state(state)
        self._check_trigger(trigger)
        try:
            fired = self._trigger(trigger, None, None)
        except MachineError:
            return "anomaly", state
        return ("transition" if isinstance(fired, RowSpec) else "ignore"), self.state

    def _trigger(self, trigger: str, ctx: Any, env: Any) -> RowSpec | IgnoreSpec | None:
        before = self.state
        self._fired = None
        try:
            done = self._machine.events[trigger].trigger(self._model, ctx=ctx, env=env)
        except BaseException:
            self._machine.set_state(before, model=self._model)
            raise
        return self._fired if done else None

    def _check_trigger(self, trigger: str) -> None:
        if trigger not in self._machine.events:
            raise ValueError(f"machine {self.spec.name} has no trigger {trigger!r}")

    def _condition(self, name: str) -> Callable[[EventData], bool]:
        guard = self._guards[name]
        return lambda event: _checked(name, guard(event.kwargs["ctx"]))

    def _recorder(self, row: RowSpec | IgnoreSpec) -> Callable[[EventData], None]:
        def record(event: EventData) -> None:
            self._fired = row

        return record


def _action(action: Action) -> Callable[[EventData], None]:
    return lambda event: action(event.kwargs["env"])


def _checked(name: str, value: object) -> bool:
    """A guard must answer a real bool (a None or a Decimal is a bug, not an answer)."""
    if not isinstance(value, bool):
        raise TypeError(f"guard {name} returned {type(value).__name__}, not bool")
    return value
