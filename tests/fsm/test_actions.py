"""Actions are idempotent over the state they leave: run again (a crash lost the transition record),
they journal no effect twice and send nothing twice."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fsm.engine.actions import archive_cycle, cancel_working_rungs, close_position, submit_entries
from fsm.engine.env import ActionEnv
from fsm.engine.machine import load_machine
from fsm.engine.orders import CloseOrder, Fill, Rung
from fsm.engine.state import LadderState

MACHINE = load_machine("eth_robust_twap_15m", state_dir=Path("unused"))
NOW = 1_767_571_200_000


class Refusing:
    """A trader that fails the test if anything is sent."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} was called: something would have been sent twice")


class Clock:
    def now_ms(self) -> int:
        return NOW


def env_for(state: LadderState, journal: list[str]) -> ActionEnv:
    ctx = MACHINE.context(state, Clock(), armed=True)  # type: ignore[arg-type]
    return ActionEnv(ctx, lambda kind, data: journal.append(kind), Refusing())


def fill(side: str, sz: str, cl: str) -> Fill:
    return Fill(
        "t" + cl + side, "1", "1", cl, Decimal("3000"), Decimal(sz), Decimal("-0.01"), "USDT", NOW, side
    )


def test_the_archive_is_journaled_once_per_cycle() -> None:
    state = LadderState(state="filled", cycle_id="ertw1", ct_val=Decimal("0.1"))
    state.fills = [fill("buy", "1", "ertw1r1a0"), fill("sell", "1", "ertw1r0a0")]
    journal: list[str] = []
    archive_cycle(env_for(state, journal))
    archive_cycle(env_for(state, journal))
    assert journal == ["archive"] and state.cycles_completed == 1


@pytest.mark.parametrize("rung_state", ["submitting", "live", "unknown"])
def test_submit_sends_nothing_when_no_rung_is_left_rendered(rung_state: str) -> None:
    state = LadderState(
        state="intent_rendered", rungs=[Rung(1, "ertw1r1a0", Decimal(1), Decimal(1), rung_state)]
    )
    journal: list[str] = []
    submit_entries(env_for(state, journal))
    assert journal == []


def test_a_cancel_sent_within_the_retry_interval_is_not_sent_again() -> None:
    rung = Rung(1, "ertw1r1a0", Decimal(1), Decimal(1), "cancelling", cancel_sent_ts=NOW - 1_000)
    state = LadderState(state="cancelling", rungs=[rung])
    journal: list[str] = []
    cancel_working_rungs(env_for(state, journal))
    assert journal == []


def test_an_exit_in_flight_is_not_sent_again() -> None:
    state = LadderState(state="filled", fills=[fill("buy", "1", "ertw1r1a0")])
    state.close_request = CloseOrder("exit", NOW, "ertw1r0a0", sent_ts=NOW - 1_000, outcome="accepted")
    journal: list[str] = []
    close_position(env_for(state, journal))
    assert journal == []
