"""The runtime: YAML order is priority, unless works, preview fires nothing, failures keep the state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fsm.engine.actions import ACTIONS
from fsm.engine.guards import GUARDS
from fsm.engine.machine import load_ladder_spec, load_order_machine
from fsm.engine.runtime import MachineLoopError, MachineRuntime
from fsm.spec.model import MachineSpec, RowSpec

REPO = Path(__file__).resolve().parents[2]
SPEC = load_ladder_spec(REPO / "machines" / "eth_robust_twap_15m.yaml")
LADDER_GUARDS = frozenset(GUARDS)
LADDER_ACTIONS = frozenset(ACTIONS)
GUARD_NAMES = sorted(LADDER_GUARDS)


class Stubs:
    """Guard values set by the test; actions that record their calls (or raise)."""

    def __init__(self, true: set[str] | None = None) -> None:
        self.values = dict.fromkeys(LADDER_GUARDS, False) | dict.fromkeys(true or (), True)
        self.calls: list[str] = []
        self.guard_calls: list[str] = []
        self.failing: dict[str, BaseException] = {}

    def guard(self, name: str) -> Callable[[Any], bool]:
        def read(ctx: Any) -> bool:
            self.guard_calls.append(name)
            return self.values[name]

        return read

    def action(self, name: str) -> Callable[[Any], None]:
        def run(env: Any) -> None:
            self.calls.append(name)
            if name in self.failing:
                raise self.failing[name]

        return run

    def runtime(self, spec: MachineSpec = SPEC, state: str | None = None) -> MachineRuntime:
        runtime = MachineRuntime(
            spec,
            guards={name: self.guard(name) for name in LADDER_GUARDS},
            actions={name: self.action(name) for name in LADDER_ACTIONS},
        )
        if state is not None:
            runtime.set_state(state)
        return runtime


def reference_row(spec: MachineSpec, state: str, values: dict[str, bool]) -> RowSpec | None:
    """The row the YAML says fires: the first candidate whose guards all pass and unless all fail."""
    for row in spec.rows_from(state, "tick"):
        if all(values[g] for g in row.guards) and not any(values[u] for u in row.unless):
            return row
    return None


def test_new_runtime_starts_in_the_initial_state() -> None:
    assert Stubs().runtime().state == "idle"


def test_earlier_row_wins_when_several_rows_pass() -> None:
    stubs = Stubs({"any_fill", "all_rungs_terminal", "entry_expired", "submit_armed"})
    runtime = stubs.runtime(state="entries_open")

    row = runtime.fire()

    assert row is SPEC.rows[3]
    assert runtime.state == "partially_filled"


def test_later_row_fires_when_the_earlier_ones_fail() -> None:
    stubs = Stubs({"all_rungs_terminal", "entry_expired", "submit_armed"})
    runtime = stubs.runtime(state="entries_open")

    assert runtime.fire() is SPEC.rows[4]
    assert (runtime.state, stubs.calls) == ("closed", ["archive_cycle"])


def test_unless_guard_that_is_true_blocks_the_row() -> None:
    stubs = Stubs({"exit_due", "submit_armed", "close_sent"})
    runtime = stubs.runtime(state="filled")

    assert runtime.fire() is None
    assert (runtime.state, stubs.calls) == ("filled", [])

    stubs.values["close_sent"] = False
    assert runtime.fire() is SPEC.rows[20]
    assert (runtime.state, stubs.calls) == ("filled", ["close_position"])


def test_preview_evaluates_every_guard_but_fires_nothing() -> None:
    stubs = Stubs({"exit_due", "submit_armed", "close_requested"})
    runtime = stubs.runtime(state="filled")

    preview = runtime.preview()

    assert (runtime.state, stubs.calls) == ("filled", [])
    assert preview.fires is SPEC.rows[20]
    assert [c.row.index for c in preview.candidates] == [16, 17, 18, 19, 20, 21, 22, 28]
    assert [c.passes for c in preview.candidates] == [False, False, False, False, True, True, False, False]
    assert preview.candidates[4].guards == (("exit_due", True), ("submit_armed", True))
    assert preview.candidates[4].unless == (("close_sent", False), ("stop_working", False))
    assert sorted(stubs.guard_calls) == sorted(set(stubs.guard_calls))  # each guard asked once
    assert set(stubs.guard_calls) == {
        g for row in SPEC.rows_from("filled", "tick") for g in (*row.guards, *row.unless)
    }
    document = preview.to_dict()
    assert (document["state"], document["trigger"], document["fires"]) == ("filled", "tick", 20)
    assert document["candidates"][4]["guards"] == {"exit_due": True, "submit_armed": True}


def test_action_exception_reaches_the_caller_and_leaves_the_state_unchanged() -> None:
    stubs = Stubs({"signal_ready"})
    stubs.failing["render_intent"] = OSError("disk full")
    runtime = stubs.runtime()

    with pytest.raises(OSError, match="disk full"):
        runtime.fire()

    assert runtime.state == "idle"
    assert stubs.calls == ["render_intent"]
    del stubs.failing["render_intent"]
    assert runtime.fire() is SPEC.rows[0]
    assert runtime.state == "intent_rendered"


def test_interrupt_inside_an_action_leaves_the_state_unchanged() -> None:
    stubs = Stubs({"submit_armed"})
    stubs.failing["submit_entries"] = KeyboardInterrupt()
    runtime = stubs.runtime(state="intent_rendered")

    with pytest.raises(KeyboardInterrupt):
        runtime.fire()

    assert runtime.state == "intent_rendered"


def test_guard_exception_reaches_the_caller() -> None:
    stubs = Stubs()
    runtime = MachineRuntime(
        SPEC,
        guards={name: stubs.guard(name) for name in LADDER_GUARDS} | {"signal_ready": lambda ctx: 1 / 0 > 0},
        actions={name: stubs.action(name) for name in LADDER_ACTIONS},
    )
    with pytest.raises(ZeroDivisionError):
        runtime.fire()
    assert runtime.state == "idle"


def test_guard_answering_something_other_than_a_bool_is_an_error() -> None:
    stubs = Stubs()
    guards: dict[str, Any] = {name: stubs.guard(name) for name in LADDER_GUARDS}
    guards["signal_ready"] = lambda ctx: None
    runtime = MachineRuntime(
        SPEC, guards=guards, actions={name: stubs.action(name) for name in LADDER_ACTIONS}
    )
    with pytest.raises(TypeError, match="guard signal_ready returned NoneType"):
        runtime.preview()


def test_fire_until_quiet_follows_the_chain_and_calls_after_each() -> None:
    stubs = Stubs({"all_rungs_terminal", "any_fill", "position_flat"})
    runtime = stubs.runtime(state="cancelling")
    seen: list[tuple[int, str]] = []

    fired = runtime.fire_until_quiet(after_each=lambda row: seen.append((row.index, runtime.state)))

    assert [row.index for row in fired] == [11, 16]
    assert seen == [(11, "filled"), (16, "closed")]
    assert runtime.state == "closed"  # closed_in_earlier_tick is false: the cycle stays shown


def test_fire_until_quiet_refuses_a_loop_at_the_limit() -> None:
    # idle -> intent_rendered -> closed -> idle -> ...: a loop
    stubs = Stubs(set(LADDER_GUARDS) - {"paused", "cooling_down"})
    runtime = stubs.runtime()
    fired: list[RowSpec] = []

    with pytest.raises(MachineLoopError, match="5 rows fired on 'tick'"):
        runtime.fire_until_quiet(limit=5, after_each=fired.append)

    assert len(fired) == 5


def test_fire_until_quiet_allows_exactly_limit_rows() -> None:
    stubs = Stubs({"all_rungs_terminal", "any_fill", "position_flat"})
    assert len(stubs.runtime(state="cancelling").fire_until_quiet(limit=2)) == 2


def test_set_state_restores_without_running_actions_and_refuses_unknown_states() -> None:
    stubs = Stubs()
    runtime = stubs.runtime()
    runtime.set_state("cancelling")
    assert (runtime.state, stubs.calls, stubs.guard_calls) == ("cancelling", [], [])
    with pytest.raises(ValueError, match="no state 'cancelled'"):
        runtime.set_state("cancelled")


def test_unknown_trigger_is_refused() -> None:
    with pytest.raises(ValueError, match="no trigger 'tock'"):
        Stubs().runtime().fire("tock")


def test_missing_guard_or_action_callable_is_refused() -> None:
    stubs = Stubs()
    with pytest.raises(ValueError, match="no guard given for close_sent"):
        MachineRuntime(
            SPEC,
            guards={name: stubs.guard(name) for name in LADDER_GUARDS - {"close_sent"}},
            actions={name: stubs.action(name) for name in LADDER_ACTIONS},
        )


def test_trigger_without_rows_in_a_state_does_nothing() -> None:
    order = load_order_machine(REPO / "machines" / "okx_order.yaml")
    runtime = MachineRuntime(order, guards={}, actions={})
    assert runtime.fire("ack_accepted") is None
    assert runtime.state == "rendered"
    assert runtime.fire("submit") is order.rows[0]
    assert runtime.state == "submitting"


@given(
    state=st.sampled_from(SPEC.state_names),
    values=st.fixed_dictionaries({name: st.booleans() for name in GUARD_NAMES}),
)
def test_fire_and_preview_agree_with_the_yaml_for_any_guards(state: str, values: dict[str, bool]) -> None:
    expected = reference_row(SPEC, state, values)
    stubs = Stubs({name for name, value in values.items() if value})
    runtime = stubs.runtime(state=state)

    assert runtime.preview().fires is expected
    assert stubs.calls == []
    assert runtime.fire() is expected
    assert runtime.state == (state if expected is None else expected.dest)
    assert stubs.calls == ([] if expected is None else list(expected.actions))
