"""The operator's `reduce` end to end: the account `reducing` (directly, or through a running runner's
spool), new entries refused with nothing POSTed, each machine's working entries cancelled or resting per
its on_reducing, stops and exits still sent; `resume --account` clears it. The real CLI and `run`
against the simulator, two machines on one account, judged from the simulator's records."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.conftest import CEILING_S, MACHINE, Cli
from tests.cli.test_halt import algos, positions, tick, trading_records, two_machines_holding, working
from tests.cli.test_ladder_paths import fill_rung_fully, keep_away, post_count
from tests.cli.test_tick_cli import _second_machine

pytestmark = pytest.mark.e2e


def keeping_twin(tmp_path: Path) -> str:
    """The second machine, with `on_reducing: keep`: its working entries rest while the account reduces."""
    path = _second_machine(tmp_path)
    spec = yaml.safe_load(path.read_text())
    spec["params"]["on_reducing"] = "keep"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(path)


def of(h: Cli, prefix: str, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in orders if o["clOrdId"].startswith(prefix)]


def risk_records(h: Cli) -> list[dict[str, Any]]:
    lines = h.journal_path.read_text().splitlines()
    return [r["data"] for r in map(json.loads, lines) if r["kind"] == "risk"]


def test_reduce_without_a_runner_stops_entries_keeps_or_cancels_per_machine_and_lets_exits_and_stops_out(
    cli: Cli, tmp_path: Path
) -> None:
    h = cli
    twin = keeping_twin(tmp_path)
    two_machines_holding(h, twin)
    px = [Decimal(o["px"]) for o in of(h, "ertw", h.sim_orders())]

    result = h.run("reduce", MACHINE, twin, "--state-dir", str(h.state_dir))

    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("reduce: the account is reducing: no new entries (journaled in"), result.stdout
    assert len(lines) == 3 and all(": done: " in line for line in lines[1:]), result.stdout
    assert "2 working entries on OKX" in lines[2] and "rest (on_reducing: keep)" in lines[2]
    # Ours (cancel_entries) are cancelled; the twin's (keep) rest; both stops stay; nothing is exited.
    assert of(h, "ertw", working(h)) == [] and len(of(h, "etwin", working(h))) == 2
    assert [a["state"] for a in algos(h)] == ["live", "live"] and all(p > 0 for p in positions(h))
    (record,) = trading_records(h)
    assert record["state"] == "reducing" and record["set_by"] == "operator reduce"
    assert record["clears"] == "okx-fsm resume --account"
    (withdrawn,) = risk_records(h)
    assert withdrawn["value"] == "reducing" and withdrawn["set_by"] == "operator reduce"

    # A resting rung of the twin fills while reducing: its stop is amended to the new own size.
    fill_rung_fully(h, px[1])
    keep_away(h, px)
    amends = post_count(h, "amend-algos")
    assert tick(h, twin)["state"] == "partially_filled"
    own = sum(Decimal(o["accFillSz"]) for o in of(h, "etwin", h.sim_orders()))
    (stop,) = [a for a in algos(h) if a["algoClOrdId"].startswith("etwin")]
    assert post_count(h, "amend-algos") == amends + 1 and Decimal(stop["sz"]) == own > 0
    assert len(of(h, "etwin", working(h))) == 1  # its last rung still rests

    # Our exit still goes out, reduce-only, and fills.
    assert tick(h, MACHINE)["state"] == "filled"  # its cancelled rungs seen ended
    h.run("close", MACHINE, "--state-dir", str(h.state_dir), "--submit")
    for _ in range(6):
        h.sim.advance(5)
        if tick(h, MACHINE)["state"] == "idle":
            break
    exits = [o for o in of(h, "ertw", h.sim_orders()) if o["ordType"] == "market"]
    assert len(exits) == 1 and exits[0]["state"] == "filled" and exits[0]["reduceOnly"] == "true"

    # A new signal renders and is refused: nothing is POSTed; status names the operator's reduce.
    posts = h.posts()
    h.signal()
    doc = tick(h, MACHINE)
    assert h.posts() == posts and of(h, "ertw", working(h)) == []
    refusal = doc["last_risk_refusal"]
    assert (refusal["rule"], refusal["value"], refusal["set_by"]) == (
        "trading state",
        "reducing",
        "operator reduce",
    )
    status = h.run("status", MACHINE, "--state-dir", str(h.state_dir)).stdout
    assert "not sent: reducing: operator reduce: eth_robust_twap_15m entries ertw" in status
    assert "account   reducing since" in status

    h.run("resume", "--account", "--state-dir", str(h.state_dir))
    assert [r["state"] for r in trading_records(h)] == ["reducing", "active"]
    assert tick(h, MACHINE)["state"] == "idle"  # the refused cycle ends; the next signal enters
    h.signal()
    assert tick(h, MACHINE)["state"] == "entries_open"
    assert len(of(h, "ertw", working(h))) == 3
    h.run("verify-log", "account", "--state-dir", str(h.state_dir))


def test_reduce_with_a_runner_running_goes_through_its_spool(cli: Cli, tmp_path: Path) -> None:
    h = cli
    twin = keeping_twin(tmp_path)
    two_machines_holding(h, twin)
    cmd = [sys.executable, "-c", "from fsm.cli.app import main; main()", "run", MACHINE, twin]
    cmd += ["--submit", "--yes", "--interval", "1", "--state-dir", str(h.state_dir)]
    proc = subprocess.Popen(
        cmd, env={**os.environ, **h.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        give_up = time.monotonic() + CEILING_S
        while not (h.state_dir / "account.json.lock").exists() or not list(
            h.state_dir.glob("*.heartbeat.json")
        ):
            assert time.monotonic() < give_up, "the runner did not start"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        posts = post_count(h, "batch-orders") + post_count(h, "order")

        result = h.run("reduce", MACHINE, twin, "--state-dir", str(h.state_dir), "--wait", str(CEILING_S))

        lines = result.stdout.strip().splitlines()
        assert "(queued for the running runner)" in lines[0], result.stdout
        assert len(lines) == 3 and all(": done: " in line for line in lines[1:]), result.stdout
        assert of(h, "ertw", working(h)) == [] and len(of(h, "etwin", working(h))) == 2
        assert [a["state"] for a in algos(h)] == ["live", "live"] and all(p > 0 for p in positions(h))
        assert post_count(h, "batch-orders") + post_count(h, "order") == posts  # nothing placed
        wait_for = time.monotonic() + CEILING_S
        while [r["state"] for r in trading_records(h)] != ["reducing"]:
            assert time.monotonic() < wait_for, trading_records(h)
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=CEILING_S)
    (withdrawn,) = risk_records(h)
    assert withdrawn["set_by"] == "operator reduce" and withdrawn["request"].endswith("cancelled")
    assert len(of(h, "etwin", working(h))) == 2  # still resting after the runner's rounds
    said = h.run("resume", "--account", "--state-dir", str(h.state_dir)).stdout
    assert [r["state"] for r in trading_records(h)] == ["reducing", "active"], said
