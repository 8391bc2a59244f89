"""A short chaos run: the real CLI against `okx-harsh` with random SIGKILLs, judged from the venue.

The long run is `python -m bench.chaos`; both use bench/chaos_lib.
"""

from __future__ import annotations

import pytest

from bench.chaos_lib import ChaosConfig, run_chaos

CONFIG = ChaosConfig(
    seed=3,
    cycles=5,
    harsh=0.1,
    kill=0.2,
    max_ticks_per_cycle=20,
    settle_ticks=12,
    max_segments=3,
    wall_budget_s=None,  # bounded by count (cycles, ticks, segments), never by how fast the machine is
)


@pytest.mark.chaos
def test_chaos_run_keeps_every_invariant_and_really_exercised_the_faults() -> None:
    report = run_chaos(CONFIG)
    summary = "\n".join([report.summary_line(), *report.violations.details()[:30]])
    # Not vacuous: ticks were killed, faults fired, the cycles were completed, a stop was run through and
    # fired, and protection was judged after clean ticks.
    assert report.kills > 0, summary
    assert report.faults > 0, summary
    assert report.cycles >= CONFIG.cycles, summary
    assert report.stop_runs > 0 and report.stops_fired > 0, summary
    assert report.protection_judged > 0, summary
    assert 5 not in report.exit_codes, summary  # ticks are sequential: the lock is never held
    assert report.counts() == {
        "duplicates": 0,
        "lost_fills": 0,
        "invented_terminals": 0,
        "stuck": 0,
        "unprotected_ticks": 0,
    }, summary
    assert report.verify_log == "ok", summary
