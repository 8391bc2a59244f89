"""Transition-table tests generated from the machine YAML.

Ladder: for every row (and each of its sources), guard values under which that row passes and every
earlier candidate fails: firing moves to the row's dest and runs exactly its actions. For every state,
guard values under which no row passes: the state stays and no action runs. The case builders are
public so the tick's tests can drive the same cases through the real tick.

Order and stop machines: every (state, observation) pair is a declared transition, a declared no-op, or
an anomaly, exactly as the YAML lists them, and the design's rules hold over the states' roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import pytest

from fsm.engine.actions import ACTIONS
from fsm.engine.guards import GUARDS
from fsm.engine.machine import VOCABULARY, load_ladder_spec, load_order_machine
from fsm.engine.observe import ORDER_TRIGGERS
from fsm.engine.observe_stop import STOP_TRIGGERS
from fsm.engine.roles import OrderRoles, StopRoles
from fsm.engine.runtime import MachineRuntime
from fsm.spec.loader import load_spec
from fsm.spec.model import MachineSpec, RowSpec

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "machines").glob("*.yaml"))
LADDERS = [load_ladder_spec(p) for p in SHIPPED if load_spec(p, VOCABULARY).kind == "ladder"]  # extends too
LADDER = next(spec for spec in LADDERS if spec.name == "eth_robust_twap_15m")
ORDER = load_order_machine(REPO / "machines" / "okx_order.yaml")
ROLES = OrderRoles.of(ORDER)
STOP = load_order_machine(REPO / "machines" / "okx_stop.yaml", "stop")
STOPS = StopRoles.of(STOP)


@dataclass(frozen=True)
class Case:
    """From `state`, with these guard values, `row` fires (None: nothing fires)."""

    state: str
    values: dict[str, bool]
    row: RowSpec | None

    @property
    def id(self) -> str:
        if self.row is None:
            return f"{self.state}-stays"
        return f"row{self.row.index}-{self.state}-to-{self.row.dest}"


def _passes(row: RowSpec, values: dict[str, bool]) -> bool:
    return all(values[g] for g in row.guards) and not any(values[u] for u in row.unless)


def row_cases(spec: MachineSpec, trigger: str = "tick") -> list[Case]:
    """One case per (row, source): the row passes, every earlier candidate from that source fails."""
    names = {g for row in spec.rows for g in (*row.guards, *row.unless)}
    cases = []
    for row in spec.rows:
        if row.trigger != trigger:
            continue
        for state in row.sources:
            values = dict.fromkeys(names, False) | dict.fromkeys(row.guards, True)
            for earlier in spec.rows_from(state, trigger):
                if earlier is row:
                    break
                # The loader guarantees an earlier row needs something this row does not: deny it.
                free_guards = [g for g in earlier.guards if g not in row.guards]
                free_unless = [u for u in earlier.unless if u not in row.unless]
                if free_guards:
                    values[free_guards[0]] = False
                else:
                    values[free_unless[0]] = True
            cases.append(Case(state, values, row))
    return cases


def quiet_cases(spec: MachineSpec, trigger: str = "tick") -> list[Case]:
    """One case per state: every guard false (and any guard-less row blocked by its unless)."""
    names = {g for row in spec.rows for g in (*row.guards, *row.unless)}
    cases = []
    for state in spec.state_names:
        values = dict.fromkeys(names, False)
        for row in spec.rows_from(state, trigger):
            if not row.guards:
                values[row.unless[0]] = True
        cases.append(Case(state, values, None))
    return cases


def expected_row(spec: MachineSpec, case: Case) -> RowSpec | None:
    return next((row for row in spec.rows_from(case.state, "tick") if _passes(row, case.values)), None)


def run(spec: MachineSpec, case: Case) -> tuple[MachineRuntime, list[str], RowSpec | None]:
    calls: list[str] = []

    def guard(name: str) -> Callable[[object], bool]:
        return lambda ctx: case.values.get(name, False)

    def action(name: str) -> Callable[[object], None]:
        return lambda env: calls.append(name)

    runtime = MachineRuntime(
        spec,
        guards={name: guard(name) for name in GUARDS},
        actions={name: action(name) for name in ACTIONS},
    )
    runtime.set_state(case.state)
    return runtime, calls, runtime.fire()


def ladder_cases(build: Callable[[MachineSpec], list[Case]]) -> list[tuple[MachineSpec, Case]]:
    return [(spec, case) for spec in LADDERS for case in build(spec)]


def case_id(value: object) -> str:
    return value.name if isinstance(value, MachineSpec) else value.id if isinstance(value, Case) else ""


@pytest.mark.parametrize(("spec", "case"), ladder_cases(row_cases), ids=case_id)
def test_row_fires_to_its_dest_when_its_guards_pass_and_earlier_rows_fail(
    spec: MachineSpec, case: Case
) -> None:
    assert case.row is not None
    assert expected_row(spec, case) is case.row, "the generated guard values must single out this row"

    runtime, calls, fired = run(spec, case)

    assert fired is case.row
    assert runtime.state == case.row.dest
    assert calls == list(case.row.actions)


@pytest.mark.parametrize(("spec", "case"), ladder_cases(quiet_cases), ids=case_id)
def test_state_stays_and_nothing_runs_when_no_row_passes(spec: MachineSpec, case: Case) -> None:
    assert expected_row(spec, case) is None

    runtime, calls, fired = run(spec, case)

    assert (fired, runtime.state, calls) == (None, case.state, [])


@pytest.mark.parametrize("spec", LADDERS, ids=lambda spec: spec.name)
def test_every_ladder_row_and_state_has_a_generated_case(spec: MachineSpec) -> None:
    assert {(c.row.index, c.state) for c in row_cases(spec) if c.row} == {
        (row.index, state) for row in spec.rows for state in row.sources
    }
    assert [c.state for c in quiet_cases(spec)] == list(spec.state_names)


# The order and stop machines: every (state, observation) pair the engine can fire is run through the
# runtime and must do exactly what the YAML declares; then the design's rules, stated over roles, not names.
PAIRS = [
    (spec, state, trigger)
    for spec, fired in ((ORDER, ORDER_TRIGGERS), (STOP, STOP_TRIGGERS))
    for state, trigger in product(spec.state_names, fired)
]


def declared(spec: MachineSpec, state: str, trigger: str) -> tuple[str, str]:
    rows = spec.rows_from(state, trigger)
    if rows:
        return "transition", rows[0].dest
    if any(i.trigger == trigger and state in i.sources for i in spec.ignores):
        return "ignore", state
    return "anomaly", state


def pair_id(value: object) -> str:
    return value.name if isinstance(value, MachineSpec) else str(value)


@pytest.mark.parametrize(("spec", "state", "trigger"), PAIRS, ids=pair_id)
def test_every_order_and_stop_state_and_observation_pair_is_classified(
    spec: MachineSpec, state: str, trigger: str
) -> None:
    assert MachineRuntime(spec).observe(state, trigger) == declared(spec, state, trigger)


def test_order_machine_declares_every_observation_the_engine_fires() -> None:
    assert set(ORDER.triggers) == set(ORDER_TRIGGERS)


def test_stop_machine_declares_every_observation_the_engine_fires() -> None:
    assert set(STOP.triggers) == set(STOP_TRIGGERS)


def role(state: str) -> str | None:
    return ORDER.state(state).role


def test_order_design_rules_hold_over_roles() -> None:
    machine = MachineRuntime(ORDER)
    for state in ORDER.state_names:
        verdicts = {t: machine.observe(state, t) for t in ORDER_TRIGGERS}
        if state in ROLES.terminal:  # no row leaves an ended order; a repeat of how it ended is a no-op
            assert all(v[0] != "transition" for v in verdicts.values())
        if role(state) == "in_flight":  # whatever OKX shows of a sent order is taken in
            for seen in ("seen_live", "seen_partially_filled", "seen_filled", "seen_canceled"):
                assert verdicts[seen][0] == "transition", (state, seen)
            dest = verdicts["not_found"][1]  # past its deadline: never placed, or refused
            assert role(dest) in ("unsent", "refused"), state
        if role(state) == "resting":  # a fill or a cancel OKX shows ends it; a vanished order ended
            assert role(verdicts["seen_filled"][1]) == "ended", state
            assert role(verdicts["vanished"][1]) == "ended", state
    initial = ORDER.initial
    assert role(machine.observe(initial, "submit")[1]) == "in_flight"
    sent = machine.observe(initial, "submit")[1]
    assert role(machine.observe(sent, "ack_accepted")[1]) == "resting"
    assert role(machine.observe(sent, "ack_rejected")[1]) == "refused"
    assert role(machine.observe(sent, "ack_ambiguous")[1]) == "in_flight"
    assert role(machine.observe(sent, "ack_duplicate")[1]) == "in_flight"  # 51016: it exists


def test_order_runtime_refuses_names_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="no state 'pending'"):
        MachineRuntime(ORDER).observe("pending", "seen_live")
    with pytest.raises(ValueError, match="no trigger 'seen_mmp_canceled'"):
        MachineRuntime(ORDER).observe(ORDER.initial, "seen_mmp_canceled")


def stop_role(state: str) -> str | None:
    return STOP.state(state).role


def test_stop_design_rules_hold_over_roles() -> None:
    machine = MachineRuntime(STOP)
    for state in STOP.state_names:
        verdicts = {t: machine.observe(state, t) for t in STOP_TRIGGERS}
        if state in STOPS.terminal:  # no row leaves a fired, ended or refused stop
            assert all(v[0] != "transition" for v in verdicts.values()), state
        if stop_role(state) == "in_flight":  # whatever OKX shows of a sent stop is taken in
            for seen in ("seen_live", "seen_effective", "seen_canceled", "seen_order_failed"):
                assert verdicts[seen][0] == "transition", (state, seen)
            # not shown past the grace: rendered again with its algoClOrdId (or, OKX having said it
            # exists, given up); within it: sent again at once
            assert stop_role(verdicts["not_found"][1]) in ("unsent", "refused"), state
            kind, dest = verdicts["not_found_yet"]
            assert kind != "transition" or stop_role(dest) == "unseen", state
        if stop_role(state) == "unseen":  # sent again: whatever OKX shows is taken in, or it is sent
            for seen in ("seen_live", "seen_effective", "seen_canceled", "seen_order_failed"):
                assert verdicts[seen][0] == "transition", (state, seen)
            assert stop_role(verdicts["resend"][1]) == "in_flight", state
            assert stop_role(verdicts["not_found"][1]) == "unsent", state  # past the grace: it cannot apply
        if stop_role(state) in ("working", "cancel_requested"):  # OKX's evidence ends a live stop
            assert stop_role(verdicts["seen_effective"][1]) == "fired", state
            assert stop_role(verdicts["seen_canceled"][1]) == "ended", state
            assert stop_role(verdicts["seen_order_failed"][1]) == "refused", state
            assert stop_role(verdicts["vanished"][1]) == "ended", state
            assert verdicts["cancel_rejected"][0] != "transition", state  # only OKX's state ends it
    assert STOPS.cancellable == STOP.with_role("working")  # a cancel is aimed only at a working stop
    for state in STOPS.cancellable:
        assert stop_role(machine.observe(state, "cancel_sent")[1]) == "cancel_requested"
    sent = machine.observe(STOP.initial, "submit")[1]
    assert stop_role(sent) == "in_flight"
    assert stop_role(machine.observe(sent, "ack_accepted")[1]) == "working"
    assert stop_role(machine.observe(sent, "ack_rejected")[1]) == "refused"
    assert stop_role(machine.observe(sent, "ack_ambiguous")[1]) == "in_flight"
    assert stop_role(machine.observe(sent, "ack_duplicate")[1]) == "in_flight"  # 51065: it exists
    lost = machine.observe(machine.observe(sent, "ack_ambiguous")[1], "not_found_yet")[1]
    assert stop_role(lost) == "unseen"  # an ambiguous place OKX does not show goes again at once
    assert machine.observe(machine.observe(sent, "ack_duplicate")[1], "not_found_yet")[0] != "transition"
