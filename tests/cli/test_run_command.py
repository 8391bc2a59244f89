"""`okx-fsm run`: several machines share one ExchangeView per tick; SIGINT finishes the tick and exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import CEILING_S, MACHINE, Cli
from tests.cli.test_tick_cli import _second_machine

pytestmark = pytest.mark.e2e


def _requests(h: Cli) -> dict[str, int]:
    counts: dict[str, int] = h.sim.stats()["requests"]
    return dict(counts)


def test_run_serves_every_machine_from_one_view_per_tick(cli: Cli, tmp_path: Path) -> None:
    h = cli
    twin = str(_second_machine(tmp_path))
    h.signal()
    state_dir = str(h.state_dir)
    h.run(
        "run", MACHINE, twin, "--submit", "--ticks", "1", "--interval", "1", "--state-dir", state_dir, "--yes"
    )
    before = _requests(h)
    h.sim.advance(5)
    result = h.run(
        "run", MACHINE, twin, "--submit", "--ticks", "2", "--interval", "0.1", "--state-dir", state_dir
    )
    after = _requests(h)
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}

    assert "stopped after 2 tick(s)" in result.stdout
    for name in (MACHINE, twin):
        doc = json.loads(h.run("status", name, "--state-dir", state_dir, "--json").stdout)
        assert doc["state"] == "entries_open" and len(doc["rungs"]) == 3
    # Two ticks of two machines with entries open: orders-pending once per tick, not per machine; the
    # time is measured in the first (full) round and then kept as local clock + offset.
    assert delta["GET /api/v5/trade/orders-pending"] == 2
    assert delta["GET /api/v5/public/time"] == 1
    # Nothing sent but the dead man's switch (armed while entries work, disarmed on the clean stop).
    assert {k for k in delta if k.startswith("POST")} == {"POST /api/v5/trade/cancel-all-after"}


def test_sigint_finishes_the_tick_and_exits_cleanly(cli: Cli) -> None:
    h = cli
    h.signal()
    cmd = [
        sys.executable,
        "-c",
        "from fsm.cli.app import main; main()",
        "run",
        MACHINE,
        "--interval",
        "3600",  # a second tick never comes within the test, however slow the machine
        "--state-dir",
        str(h.state_dir),
    ]
    proc = subprocess.Popen(
        cmd, env={**os.environ, **h.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        give_up = time.monotonic() + CEILING_S
        while not h.journal_path.exists() or "transition" not in h.journal_path.read_text():
            assert time.monotonic() < give_up, "the first tick did not finish"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=CEILING_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "SIGINT: stopping after this tick (a second Ctrl-C stops at once)" in err
    assert "stopped after 1 tick(s)" in out
    assert h.status()["state"] == "intent_rendered"
    assert h.posts() == 0
    h.verify_log()
