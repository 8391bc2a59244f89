"""The runner's dead man's switch, judged from the simulator: OKX's Cancel All After for the tag our entry
orders carry is armed every round of an armed `run`, fires on the venue's clock after a SIGKILL and
cancels the working entries only (never our stop, either way OKX may treat algos), and is disarmed by a
clean stop; `--dead-man 0` sends none, a bad value is one line and exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest

from fsm.engine.ladder import ENTRY_TAG
from fsm.errors import ExitStatus
from fsm.service.heartbeat import heartbeat_path
from tests.cli.conftest import MACHINE, Cli
from tests.cli.test_bad_input import one_error_line
from tests.cli.test_ladder_paths import REPO, post_count, wait_until

pytestmark = pytest.mark.e2e

CAA = "cancel-all-after"
CANCEL_ALL_AFTER_SOURCE = "20"  # OKX's cancelSource for an order its Cancel All After cancelled


def ours(h: Cli) -> list[dict[str, Any]]:
    return [o for o in h.sim_orders() if o["clOrdId"].startswith(h.prefix)]


def our_algos(h: Cli) -> list[dict[str, Any]]:
    return [a for a in h.sim.state()["algos"] if a["algoClOrdId"].startswith(h.prefix)]


def armed_timers(h: Cli) -> list[dict[str, Any]]:
    timers: list[dict[str, Any]] = h.sim.state()["cancel_all_after"]
    return timers


def runner(h: Cli, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from fsm.cli.app import main; main()",
            "run",
            MACHINE,
            "--submit",
            "--state-dir",
            str(h.state_dir),
            *args,
        ],
        cwd=REPO,
        env={**os.environ, **h.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ticked(h: Cli) -> bool:
    path = heartbeat_path(h.state_path)
    return path.exists() and json.loads(path.read_text()).get("last_result") == "ok"


@pytest.mark.parametrize("caa_cancels_algos", [False, True], ids=["algos-kept", "algos-cancelled-quirk"])
def test_a_killed_runners_entries_are_cancelled_by_okx_and_the_stop_stays(
    cli: Cli, caa_cancels_algos: bool
) -> None:
    h = cli
    h.sim.set_quirks({"caa_cancels_algos": caa_cancels_algos})
    doc = h.partially_filled()  # rung 1 filled (the stop placed with it), rungs 2 and 3 working
    working = [r["clOrdId"] for r in doc["rungs"][1:]]
    h.sim.set_price(str(Decimal(doc["rungs"][0]["px"]) + 5))  # above every rung, far above the stop
    proc = runner(h, "--interval", "3600", "--dead-man", "10")
    try:
        wait_until(lambda: ticked(h), "the runner's first round")
        assert [t["tag"] for t in armed_timers(h)] == [ENTRY_TAG]
        proc.kill()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    armed_at = h.sim.state()["clock_ms"]
    assert int(armed_timers(h)[0]["triggerTime"]) <= armed_at + 10_000

    h.sim.advance(9)  # the runner is dead; OKX's timer still runs
    assert {o["clOrdId"]: o["state"] for o in ours(h) if o["clOrdId"] in working} == dict.fromkeys(
        working, "live"
    )
    h.sim.advance(2)
    cancelled = {o["clOrdId"]: (o["state"], o["cancelSource"]) for o in ours(h) if o["clOrdId"] in working}
    assert cancelled == dict.fromkeys(working, ("canceled", CANCEL_ALL_AFTER_SOURCE))
    assert armed_timers(h) == []
    # Our stop carries no tag: a tag-level timer leaves it whether or not OKX's timers touch algos.
    [stop] = our_algos(h)
    assert (stop["state"], stop["tag"]) == ("live", "")
    held = sum(Decimal(o["accFillSz"]) for o in ours(h))
    assert Decimal(stop["sz"]) == held > 0

    doc = h.tick(submit=True)  # the restart reads OKX's evidence: the entry is over, the position held
    assert doc["state"] == "filled"
    [stop] = our_algos(h)
    assert stop["state"] == "live" and Decimal(stop["sz"]) == held
    h.assert_exchange_agrees()
    h.verify_log()


def test_a_clean_stop_disarms_the_switch_and_leaves_the_entries(cli: Cli) -> None:
    h = cli
    h.entries_open()
    h.machine("run", "--submit", "--ticks", "2", "--interval", "1.5", "--dead-man", "30")
    # Armed in each of the two rounds, disarmed at the stop (a disarm OKX refuses for the rate, the arm
    # just before landing within its second, is asked again a second later).
    assert post_count(h, CAA) in (3, 4)
    assert armed_timers(h) == []
    h.sim.advance(60)
    assert [o["state"] for o in ours(h)] == ["live"] * 3


def test_the_tag_is_on_entry_orders_only(cli: Cli) -> None:
    h = cli
    h.filled()
    h.machine("close", "--submit")
    assert len(ours(h)) == 4  # three entries and the exit
    exits = [o for o in ours(h) if o["ordType"] == "market"]
    assert [o["tag"] for o in exits] == [""]
    assert [o["tag"] for o in ours(h) if o["ordType"] == "post_only"] == [ENTRY_TAG] * 3
    assert our_algos(h) and all(a["tag"] == "" for a in our_algos(h))


def test_dead_man_0_and_a_read_only_run_send_no_cancel_all_after(cli: Cli) -> None:
    h = cli
    h.entries_open()
    h.machine("run", "--submit", "--ticks", "1", "--interval", "1", "--dead-man", "0")
    h.machine("run", "--ticks", "1", "--interval", "1", "--dead-man", "60")
    assert post_count(h, CAA) == 0


@pytest.mark.parametrize("value", ["5", "121", "-1", "abc", "9"])
def test_a_bad_dead_man_value_is_one_line_and_exit_2(cli: Cli, value: str) -> None:
    result = cli.machine("run", "--submit", "--ticks", "1", "--dead-man", value, expect=ExitStatus.USAGE)
    line = one_error_line(result, ExitStatus.USAGE)
    assert "'--dead-man'" in line
    assert cli.sim.stats()["total"] == 0
