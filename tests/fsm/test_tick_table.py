"""The ladder's transition table driven through the real tick: persistence and the no-send rule.

Cases come from the YAML (tests/fsm/test_transition_table.py builds them). Guards are stubbed to the
case's values while the machine is in the case's source state; actions are stubbed to record calls,
and a recording trader proves that a quiet tick sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import fsm.engine.machine
from fsm.engine.actions import ACTION_NEEDS, ACTIONS
from fsm.engine.context import TickContext
from fsm.engine.env import ActionEnv
from fsm.engine.guards import GUARD_NEEDS, GUARDS
from fsm.engine.machine import load_machine
from fsm.engine.state import LadderState
from fsm.engine.tick import open_machine_state, run_tick
from tests.fsm.test_transition_table import LADDER, LADDERS, Case, quiet_cases, row_cases


class FakeView:
    """Answers only what a tick with stubbed guards asks: the time, and no position."""

    def now_ms(self) -> int:
        return 1_767_571_200_000

    def position(self, symbol: str, pos_side: str) -> None:
        return None

    def fetched(self, endpoint: str) -> bool:
        return False


class RecordingTrader:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            raise AssertionError(f"a stubbed tick must not send ({name})")

        return record


def _stub(case: Case, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: list[str] = []

    def guard(name: str) -> Callable[[TickContext], bool]:
        # Real guards of a reflexive row turn false once its action ran (cancel_retry_due, close_sent);
        # the stub does the same, so the tick stops after one transition.
        return lambda ctx: ctx.state.state == case.state and not ran and case.values.get(name, False)

    def action(name: str) -> Callable[[ActionEnv], None]:
        return lambda env: ran.append(name)

    # The runtime is built once, when the machine loads: stub the registries it is built from.
    monkeypatch.setattr(fsm.engine.machine, "GUARDS", {n: guard(n) for n in GUARDS})
    monkeypatch.setattr(fsm.engine.machine, "ACTIONS", {n: action(n) for n in ACTIONS})
    return ran


def _tick_from(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[str], Path]:
    ran = _stub(case, monkeypatch)
    machine = load_machine("eth_robust_twap_15m", state_dir=tmp_path)
    with open_machine_state(machine) as (store, state):  # seed the case's source state
        store.commit("operator", {"seed": case.state}, LadderState(state=case.state).to_dict(), ts_ms=1)
    trader = RecordingTrader()
    with open_machine_state(machine) as (store, state):
        result = run_tick(machine, store, state, FakeView(), trader=trader)  # type: ignore[arg-type]
    assert trader.calls == []
    return result, ran, machine.state_path


def test_registries_match_the_names_the_yaml_may_use() -> None:
    """Every guard and action is registered with its needs, and some shipped machine uses each."""
    assert set(GUARDS) == set(GUARD_NEEDS)
    assert set(ACTIONS) == set(ACTION_NEEDS)
    used = [
        name for spec in LADDERS for row in spec.rows for name in (*row.guards, *row.unless, *row.actions)
    ]
    assert set(GUARDS) | set(ACTIONS) == set(used)


@pytest.mark.parametrize("case", row_cases(LADDER), ids=lambda c: c.id)
def test_row_fires_to_its_dest_and_one_journal_line_shows_it(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert case.row is not None
    result, ran, state_path = _tick_from(case, tmp_path, monkeypatch)
    assert [(f.source, f.dest) for f in result.fired] == [(case.state, case.row.dest)]
    assert ran == list(case.row.actions)
    saved = json.loads(state_path.read_text())
    assert saved["snapshot"]["state"] == case.row.dest
    lines = [json.loads(x) for x in state_path.with_suffix(".jsonl").read_text().splitlines()]
    transitions = [r for r in lines if r["kind"] == "transition"]
    assert len(transitions) == 1
    assert transitions[0]["data"]["from"] == case.state
    assert transitions[0]["data"]["to"] == case.row.dest
    assert transitions[0]["data"]["row"] == case.row.index
    assert saved["cursor"]["seq"] == lines[-1]["seq"]


@pytest.mark.parametrize("case", quiet_cases(LADDER), ids=lambda c: c.id)
def test_state_stays_and_nothing_is_sent_when_no_row_passes(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, ran, state_path = _tick_from(case, tmp_path, monkeypatch)
    assert result.fired == [] and ran == []
    assert json.loads(state_path.read_text())["snapshot"]["state"] == case.state
    kinds = [json.loads(x)["kind"] for x in state_path.with_suffix(".jsonl").read_text().splitlines()]
    assert "transition" not in kinds
