"""Transition-table tests generated from the machine YAML.

Ladder: for every row (and each of its sources), guard values under which that row passes and every
earlier candidate fails: firing moves to the row's dest and runs exactly its actions. For every state,
guard values under which no row passes: the state stays and no action runs. The case builders are
public so the tick's tests can drive the same cases through the real tick.

Order machine: every (state, observation) pair is a declared transition, a declared no-op, or an anomaly,
exactly as the design lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import pytest

from fsm.engine.runtime import MachineRuntime
from fsm.spec.loader import LADDER_ACTIONS, LADDER_GUARDS, MachineSpec, RowSpec, load_order_spec, load_spec

REPO = Path(__file__).resolve().parents[2]
LADDER = load_spec(
    REPO / "machines" / "eth_robust_twap_15m.yaml", guards=LADDER_GUARDS, actions=LADDER_ACTIONS
)
ORDER = load_order_spec(REPO / "machines" / "okx_order.yaml")


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


def run(case: Case) -> tuple[MachineRuntime, list[str], RowSpec | None]:
    calls: list[str] = []

    def guard(name: str) -> Callable[[], bool]:
        return lambda: case.values.get(name, False)

    def action(name: str) -> Callable[[], None]:
        return lambda: calls.append(name)

    runtime = MachineRuntime(
        LADDER,
        guards={name: guard(name) for name in LADDER_GUARDS},
        actions={name: action(name) for name in LADDER_ACTIONS},
    )
    runtime.set_state(case.state)
    return runtime, calls, runtime.fire()


@pytest.mark.parametrize("case", row_cases(LADDER), ids=lambda case: case.id)
def test_row_fires_to_its_dest_when_its_guards_pass_and_earlier_rows_fail(case: Case) -> None:
    assert case.row is not None
    assert expected_row(LADDER, case) is case.row, "the generated guard values must single out this row"

    runtime, calls, fired = run(case)

    assert fired is case.row
    assert runtime.state == case.row.dest
    assert calls == list(case.row.actions)


@pytest.mark.parametrize("case", quiet_cases(LADDER), ids=lambda case: case.id)
def test_state_stays_and_nothing_runs_when_no_row_passes(case: Case) -> None:
    assert expected_row(LADDER, case) is None

    runtime, calls, fired = run(case)

    assert (fired, runtime.state, calls) == (None, case.state, [])


def test_every_ladder_row_and_state_has_a_generated_case() -> None:
    assert {(c.row.index, c.state) for c in row_cases(LADDER) if c.row} == {
        (row.index, state) for row in LADDER.rows for state in row.sources
    }
    assert [c.state for c in quiet_cases(LADDER)] == list(LADDER.state_names)


# The order machine as the design lists it: (state, observation) -> dest, and the declared no-ops.
ORDER_TRANSITIONS: dict[tuple[str, str], str] = {
    ("rendered", "submit"): "submitting",
    ("submitting", "ack_accepted"): "live",
    ("submitting", "ack_rejected"): "rejected",
    ("submitting", "ack_ambiguous"): "unknown",
    ("unknown", "not_found"): "rejected",
    ("submitting", "not_found"): "rendered",
    **{(s, "seen_live"): "live" for s in ("submitting", "unknown")},
    **{(s, "seen_partially_filled"): "partially_filled" for s in ("submitting", "unknown", "live")},
    **{
        (s, "seen_filled"): "filled"
        for s in ("submitting", "unknown", "live", "partially_filled", "cancelling")
    },
    **{
        (s, "seen_canceled"): "canceled"
        for s in ("submitting", "unknown", "live", "partially_filled", "cancelling")
    },
    **{
        (s, "seen_canceled_post_only"): "rejected_post_only"
        for s in ("submitting", "unknown", "live", "cancelling")
    },
    **{(s, "cancel_sent"): "cancelling" for s in ("live", "partially_filled")},
    ("submitting", "ack_duplicate"): "unknown",
    **{(s, "vanished"): "canceled" for s in ("live", "partially_filled", "cancelling")},
}
ORDER_IGNORES = {
    ("live", "seen_live"),
    ("partially_filled", "seen_partially_filled"),
    ("cancelling", "seen_live"),
    ("cancelling", "seen_partially_filled"),
    ("cancelling", "cancel_sent"),
    ("cancelling", "cancel_rejected"),
    ("cancelling", "cancel_ambiguous"),
    ("filled", "seen_filled"),
    ("canceled", "seen_canceled"),
    ("rejected_post_only", "seen_canceled_post_only"),
    ("rejected", "not_found"),
    ("unknown", "cancel_sent"),
    ("unknown", "cancel_rejected"),
    ("unknown", "cancel_ambiguous"),
    ("canceled", "cancel_rejected"),
    ("filled", "cancel_rejected"),
    ("rejected_post_only", "cancel_rejected"),
    ("canceled", "vanished"),
    ("rejected", "vanished"),
    ("rejected_post_only", "vanished"),
}
ORDER_TRIGGERS = (
    "submit", "ack_accepted", "ack_rejected", "ack_ambiguous", "ack_duplicate", "vanished", "seen_live",
    "seen_partially_filled", "seen_filled", "seen_canceled", "seen_canceled_post_only", "not_found",
    "cancel_sent", "cancel_rejected", "cancel_ambiguous",
)  # fmt: skip


def test_order_machine_has_the_designed_states_and_observations() -> None:
    assert set(ORDER.state_names) == {
        "rendered", "submitting", "live", "partially_filled", "filled", "cancelling", "canceled",
        "rejected", "rejected_post_only", "unknown",
    }  # fmt: skip
    assert set(ORDER.triggers) == set(ORDER_TRIGGERS)


@pytest.mark.parametrize(("state", "trigger"), list(product(ORDER.state_names, ORDER_TRIGGERS)))
def test_every_order_state_and_observation_pair_is_classified(state: str, trigger: str) -> None:
    kind = ORDER.classify(state, trigger)
    if (state, trigger) in ORDER_TRANSITIONS:
        assert (kind, ORDER.dest(state, trigger)) == ("transition", ORDER_TRANSITIONS[state, trigger])
    elif (state, trigger) in ORDER_IGNORES:
        assert (kind, ORDER.dest(state, trigger)) == ("ignore", state)
    else:
        assert (kind, ORDER.dest(state, trigger)) == ("anomaly", state)


def test_order_machine_refuses_names_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="no state 'pending'"):
        ORDER.classify("pending", "seen_live")
    with pytest.raises(ValueError, match="no trigger 'seen_mmp_canceled'"):
        ORDER.dest("live", "seen_mmp_canceled")
