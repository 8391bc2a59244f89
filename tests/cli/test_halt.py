"""The account's trading states end to end: `halt --flatten` with a runner running, a losing day that
drives `reducing`, and a restart that keeps the state; the real CLI and `run` against the simulator,
two machines on one account, judged from the simulator's records (orders, positions, algos)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import BAR_S, CEILING_S, MACHINE, Cli
from tests.cli.test_ladder_paths import fill_rung_fully, keep_away, open_entries
from tests.cli.test_limits import write_limits
from tests.cli.test_tick_cli import _second_machine

pytestmark = pytest.mark.e2e


def account_records(h: Cli) -> list[dict[str, Any]]:
    path = h.state_dir / "account.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def trading_records(h: Cli) -> list[dict[str, Any]]:
    return [r["data"] for r in account_records(h) if r["kind"] == "trading"]


def tick(h: Cli, machine: str, *extra: str) -> dict[str, Any]:
    args = ("tick", machine, "--state-dir", str(h.state_dir), "--submit", "--json", *extra)
    doc: dict[str, Any] = json.loads(h.run(*args).stdout)
    return doc


def working(h: Cli) -> list[dict[str, Any]]:
    return [o for o in h.sim_orders() if o["state"] in ("live", "partially_filled")]


def algos(h: Cli) -> list[dict[str, Any]]:
    """Every algo order on the venue (both machines' stops)."""
    found: list[dict[str, Any]] = h.sim.state()["algos"]
    return found


def positions(h: Cli) -> list[Decimal]:
    return [Decimal(p["pos"]) for p in h.sim.state()["positions"]]


def two_machines_holding(h: Cli, twin: str) -> None:
    """Both machines with rung 1 filled (own size held, a stop on OKX) and rungs 2 and 3 working."""
    px = open_entries(h)
    tick(h, twin)
    fill_rung_fully(h, px[0])
    keep_away(h, px)
    for name in (MACHINE, twin):
        assert tick(h, name)["state"] == "partially_filled"
    assert len(working(h)) == 4 and all(p > 0 for p in positions(h))


def test_halt_flatten_with_a_runner_running_leaves_no_working_order_and_every_own_position_flat(
    cli: Cli, tmp_path: Path
) -> None:
    h = cli
    twin = str(_second_machine(tmp_path))
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

        result = h.run("halt", "--flatten", "--state-dir", str(h.state_dir), "--wait", str(CEILING_S))

        lines = result.stdout.strip().splitlines()
        assert "queued for the running runner" in lines[0]
        assert len(lines) == 3 and all(": done:" in line for line in lines[1:]), result.stdout
        assert working(h) == []  # the simulator lists no working order of anyone
        assert all(p == 0 for p in positions(h))
        assert all(a["state"] != "live" for a in algos(h))  # each stop cancelled before its exit
        exits = [o for o in h.sim_orders() if o["ordType"] == "market"]
        assert len(exits) == 2 and all(o["reduceOnly"] == "true" and o["state"] == "filled" for o in exits)
        assert [r["state"] for r in trading_records(h)] == ["halted"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=CEILING_S)

    # Restart: the trading state is on the record; a new signal's entries are refused, nothing sent.
    status = h.run("status", MACHINE, "--state-dir", str(h.state_dir)).stdout
    assert "halted" in status and "resume --account" in status
    h.run("resume", MACHINE, "--state-dir", str(h.state_dir))  # the pause the flatten left
    assert tick(h, MACHINE)["state"] == "idle"
    posts = h.posts()
    h.signal()
    doc = tick(h, MACHINE)
    assert h.posts() == posts and working(h) == []
    assert doc["last_risk_refusal"]["value"] == "halted"

    h.run("resume", "--account", "--state-dir", str(h.state_dir))
    assert tick(h, MACHINE)["state"] == "idle"  # the refused cycle ends; the next signal enters
    h.signal()
    assert tick(h, MACHINE)["state"] == "entries_open"
    assert len(working(h)) == 3
    assert [r["state"] for r in trading_records(h)] == ["halted", "active"]
    h.run("verify-log", "account", "--state-dir", str(h.state_dir))


def test_a_losing_day_drives_reducing_entries_stop_while_exits_and_stops_go_out(
    cli: Cli, tmp_path: Path
) -> None:
    h = cli
    twin = str(_second_machine(tmp_path))
    limits = ("--limits", str(write_limits(tmp_path, account='max_daily_loss: "0.5"')))
    px = open_entries(h)
    tick(h, twin, *limits)
    fill_rung_fully(h, px[0])
    keep_away(h, px)
    for name in (MACHINE, twin):
        assert tick(h, name, *limits)["state"] == "partially_filled"
    assert trading_records(h) == [] and len(algos(h)) == 2  # each own size protected by its stop

    # The market falls 20; flattening the first machine realizes a loss above 0.5 USDT.
    h.sim.set_price(str(px[0] - 20))
    h.machine("flatten", "--submit", *limits)
    for _ in range(6):
        h.sim.advance(5)
        h.sim.set_price(str(px[0] - 20))
        if tick(h, MACHINE, *limits)["state"] == "idle":
            break
    (record,) = trading_records(h)
    assert record["state"] == "reducing" and record["set_by"].startswith("max_daily_loss 0.5: realized -")
    assert "T00:00Z" in record["clears"]

    # The twin's working entries are cancelled (on_reducing: cancel_entries); its stop stays on OKX.
    twin_doc = tick(h, twin, *limits)
    assert twin_doc["state"] == "filled"
    assert [o for o in working(h) if o["clOrdId"].startswith("etwin")] == []
    assert [a["state"] for a in algos(h) if a["algoClOrdId"].startswith("etwin")] == ["live"]
    # Its exit still goes out, reduce-only, and fills.
    h.run("close", twin, "--state-dir", str(h.state_dir), "--submit", *limits)
    for _ in range(6):
        h.sim.advance(5)
        if tick(h, twin, *limits)["state"] == "idle":
            break
    assert all(p == 0 for p in positions(h))
    exits = [o for o in h.sim_orders() if o["ordType"] == "market" and o["clOrdId"].startswith("etwin")]
    assert len(exits) == 1 and exits[0]["state"] == "filled" and exits[0]["reduceOnly"] == "true"

    # New entries stop everywhere: the next signal renders, is refused, nothing is sent.
    h.run("resume", MACHINE, "--state-dir", str(h.state_dir))  # the pause its flatten left
    posts = h.posts()
    h.sim.set_price(str(px[0] + 80))  # a close well above the falling market's median: a signal
    h.sim.advance(BAR_S)
    doc = tick(h, MACHINE, *limits)
    assert h.posts() == posts and working(h) == []
    refusal = doc["last_risk_refusal"]
    assert refusal["rule"] == "trading state" and refusal["value"] == "reducing"
    # The limit and the value that set it (realized to the cent, as of this tick), with the request.
    assert re.fullmatch(
        r"max_daily_loss 0\.5: realized -\d+\.\d\d on \d{4}-\d\d-\d\d \(UTC\)", refusal["set_by"]
    )
    status = h.run("status", twin, "--state-dir", str(h.state_dir)).stdout
    assert "reducing" in status and "max_daily_loss" in status
    said = h.run("status", MACHINE, "--state-dir", str(h.state_dir)).stdout
    assert f"not sent: reducing: {refusal['set_by']}: eth_robust_twap_15m entries ertw" in said, said
    assert [r["state"] for r in trading_records(h)] == ["reducing"]  # each change journaled once
    h.run("verify-log", "account", "--state-dir", str(h.state_dir))


def test_halt_without_a_runner_cancels_every_working_entry_of_the_named_machines(
    cli: Cli, tmp_path: Path
) -> None:
    h = cli
    twin = str(_second_machine(tmp_path))
    two_machines_holding(h, twin)

    result = h.run("halt", MACHINE, twin, "--state-dir", str(h.state_dir))

    lines = result.stdout.strip().splitlines()
    assert "journaled in" in lines[0] and len(lines) == 3, result.stdout
    assert working(h) == []  # entries withdrawn; without --flatten the own sizes are held
    assert all(p > 0 for p in positions(h))
    assert [a["state"] for a in algos(h)] == ["live", "live"]  # the stops stay on OKX
    assert [r["state"] for r in trading_records(h)] == ["halted"]


def test_resume_needs_a_machine_or_account_in_one_line(cli: Cli) -> None:
    result = cli.run("resume", "--state-dir", str(cli.state_dir), expect=2)
    assert "MACHINE" in result.output and "Traceback" not in result.output
