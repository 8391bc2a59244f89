"""The dead man's switch's side of `make bench`: what `run --dead-man` costs in requests.

One machine with entries open (the switch is armed only while entries are at stake), an armed runner
as `okx-fsm run --submit` makes it, on a clock of its own: its rounds and waits take no wall time, so a
quiet minute of the runner's time is counted exactly, with the switch on and off. Requests are the
simulator's own counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from bench import engine
from fsm.service.runner import Runner, RunOptions

CAA = "POST /api/v5/trade/cancel-all-after"
INTERVAL_S = 30.0  # `run`'s default --interval
QUIET_S = 61.0  # a quiet minute, as bench.push counts one: the round at its end falls within it


@dataclass
class RunnerClock:
    """The runner's monotonic clock and sleep: a sleep moves the clock, and no wall time passes. The
    window of `length_s` opens at the first wait (after the first round) and stops the runner when
    it closes, counting the requests made within it."""

    account: engine.Account
    length_s: float
    now_s: float = 0.0
    runner: Runner | None = None
    opened: tuple[float, Counter[str]] | None = None
    made: Counter[str] | None = None

    def clock(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        if self.opened is None:
            self.opened = (self.now_s, self.account.requests())
        self.now_s += max(seconds, 0.001)
        if self.made is None and self.now_s - self.opened[0] >= self.length_s:
            self.made = self.account.requests() - self.opened[1]
            assert self.runner is not None
            self.runner.request_stop()


def quiet_minute(dead_man_s: int, interval_s: float = INTERVAL_S) -> tuple[Counter[str], int]:
    """The requests by endpoint over one quiet minute of an armed runner with entries open, and its
    rounds in that minute (`dead_man_s` 0: the switch off)."""
    with engine.account_with_entries_open(1) as account:
        account.stores[0].close()  # the runner holds it from here
        state_dir = account.machines[0].state_path.parent
        clock = RunnerClock(account, QUIET_S)
        options = RunOptions(submit=True, interval_s=interval_s, ticks=0, dead_man_s=dead_man_s)
        runner = Runner(
            [str(account.paths[0])], state_dir, account.client, options, clock=clock.clock, sleep=clock.sleep
        )
        clock.runner = runner
        runner.run()
        assert clock.made is not None and runner.slots[0].state is not None
        assert runner.slots[0].state.state == "entries_open", runner.slots[0].state.state
        return clock.made, runner.rounds - 1  # the first round is before the minute


def report(say: Callable[[str], None]) -> None:
    """One line: Cancel All After requests in a quiet minute at --dead-man 60 (the default), 10 and 0."""
    costs = {seconds: quiet_minute(seconds) for seconds in (60, 10, 0)}
    made_60, rounds = costs[60]
    each = "; ".join(f"--dead-man {s} {made[CAA]} ({sum(made.values())})" for s, (made, _) in costs.items())
    ok = "ok" if made_60[CAA] <= rounds else "MISSED"
    say(
        f"run --submit --dead-man, entries open, --interval {INTERVAL_S:.0f}: cancel-all-after requests in "
        f"a quiet minute over {rounds} rounds (REST in all): {each} (target at 60 s: one a round: {ok})"
    )
