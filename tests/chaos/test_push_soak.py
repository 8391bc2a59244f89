"""A short soak with push on: `okx-fsm run --push` against the okx-harsh profile while the private
channel's socket is dropped, pushes are lost and the runner is SIGKILLed once and restarted, judged from
the venue as the chaos run is. Bounded by count (`--until-pushes`), so how fast the machine is changes
how long it takes, never what it proves; `--minutes` is only a ceiling.

The long run is `python -m bench.soak --minutes 20 --push`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.chaos_lib.sim import REPO

SOAK = [sys.executable, "-m", "bench.soak"]
PUSHES = 3  # the restarted runner must receive this many pushes before the soak ends


@pytest.mark.chaos
def test_the_runner_with_push_keeps_every_invariant_through_drops_lost_pushes_and_a_kill(
    tmp_path: Path,
) -> None:
    state_dir = tmp_path / "state"
    ran = subprocess.run(
        [
            *SOAK,
            "--until-pushes",
            str(PUSHES),
            "--minutes",
            "15",  # a ceiling: the soak stops as soon as the counts are reached (about a minute idle)
            "--speed",
            "240",
            "--harsh",
            "0.1",
            "--outages",
            "0",
            "--kills",
            "1",
            "--push",
            "--seed",
            "11",
            "--keep",
            str(state_dir),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,  # a ceiling over the soak's own ceiling and its settling, never a budget
    )
    line = ran.stdout.strip().splitlines()[0] if ran.stdout.strip() else ran.stderr[-2000:]
    log = state_dir / "okx-fsm-run.log.jsonl"
    detail = line  # with what the runner did, for a failure's message
    if log.exists():
        detail += "\n" + "\n".join(
            json.loads(entry)["message"][:300] for entry in log.read_text().splitlines()[-25:]
        )
    counts = dict(
        re.findall(
            r"(duplicates|lost_fills|invented_terminals|runner_exits|exit_code|final_tick_exit)=(\d+)", line
        )
    )
    assert counts == {
        "duplicates": "0",
        "lost_fills": "0",
        "invented_terminals": "0",
        "runner_exits": "0",
        "exit_code": "0",
        "final_tick_exit": "0",  # the read-only tick after the stop journaled what the venue shows
    }, detail
    assert " settled=True " in line, detail  # the runner itself journaled every fill before it was stopped
    assert f" until_pushes={PUSHES} reached=True" in line, detail  # every kill done, then the counts
    shown = re.search(r" push=(\{[^}]*\})", line)
    push = json.loads(shown.group(1)) if shown else {}
    assert push.get("connected") is True, detail  # the runner ran with push on to the end
    assert push.get("pushes", 0) >= PUSHES, detail  # and the channel delivered: ticks came from pushes too
    shown = re.search(r" channel=(\{[^}]*\})", line)
    channel = json.loads(shown.group(1)) if shown else {}
    assert channel.get("drops", 0) > 0 and channel.get("lost", 0) > 0, detail  # the faults really fired
    assert ran.returncode == 0, detail
