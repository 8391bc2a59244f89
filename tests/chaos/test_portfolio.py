"""A short portfolio chaos run: three machines on one account (two ETH ladders, the BTC ladder) under a
limits file, with kills, faults and hand trades, judged from the venue after every tick.

The long run is `python -m bench.chaos --portfolio`; both use bench/chaos_lib.
"""

from __future__ import annotations

import pytest

from bench.chaos_lib import ChaosConfig, portfolio, run_chaos

CONFIG = portfolio(
    ChaosConfig(
        seed=5,
        cycles=6,
        harsh=0.1,
        kill=0.2,
        max_ticks_per_cycle=25,
        settle_ticks=12,
        max_segments=2,
        wall_budget_s=None,  # bounded by count (cycles, ticks, segments), never by how fast the machine is
    )
)


@pytest.mark.chaos
def test_three_machines_on_one_account_keep_every_invariant_and_the_limits_bind() -> None:
    report = run_chaos(CONFIG)
    summary = "\n".join([report.summary_line(), *report.violations.details()[:30]])
    # Not vacuous: every machine finished a cycle, ticks were killed, faults fired, the limits refused
    # entries, and the exposure and protection were judged after ticks.
    assert report.cycles >= CONFIG.cycles, summary
    assert set(report.cycles_by_machine) == {m.name for m in CONFIG.machines}, summary
    assert all(n > 0 for n in report.cycles_by_machine.values()), summary
    assert report.kills > 0 and report.faults > 0, summary
    assert report.refusals > 0, summary
    assert report.exposure_judged > 0 and report.protection_judged > 0, summary
    assert 5 not in report.exit_codes, summary  # ticks are sequential: the lock is never held
    assert report.counts() == {
        "duplicates": 0,
        "lost_fills": 0,
        "invented_terminals": 0,
        "stuck": 0,
        "unprotected_ticks": 0,
        "over_limit": 0,
    }, summary
    assert report.verify_log == "ok", summary
