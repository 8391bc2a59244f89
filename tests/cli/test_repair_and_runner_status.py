"""`repair` moves a torn journal tail aside and says what it moved; `status` shows the runner's heartbeat."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fsm.service.heartbeat import Heartbeat, heartbeat_path
from tests.cli.conftest import MACHINE, Cli

TORN = b'{"data":{"evidence":'


def test_repair_moves_the_torn_tail_aside_keeping_its_bytes(cli: Cli) -> None:
    cli.entries_open()
    intact = cli.journal_path.read_bytes()
    with cli.journal_path.open("ab") as handle:
        handle.write(TORN)
    out = cli.machine("repair").stdout
    moved = cli.journal_path.with_name(cli.journal_path.name + ".torn-1")
    assert f"moved the torn tail of {cli.journal_path} ({len(TORN)} bytes) to {moved}" in out
    assert "chain intact" in out
    assert moved.read_bytes() == TORN and cli.journal_path.read_bytes() == intact  # nothing deleted
    cli.machine("verify-log")
    err = cli.machine("repair", expect=3).stderr
    assert "has no torn tail and the state file is not ahead of it; nothing to repair" in err


def test_repair_after_the_last_record_was_cut_leaves_a_machine_that_ticks(cli: Cli) -> None:
    """The journal's last record cut short (the one the state file names): status and tick name repair;
    repair moves the torn bytes and the state file aside (both kept); the next tick rebuilds the state
    from the journal's last snapshot and observes OKX again, agreeing with the venue's records."""
    cli.partially_filled()
    journal = cli.journal_path.read_bytes()
    last = journal.splitlines(keepends=True)[-1]
    cli.journal_path.write_bytes(journal[: len(journal) - len(last) // 2])
    state_file = cli.state_path.read_bytes()
    for command in ("status", "tick"):
        err = cli.machine(command, expect=3).stderr
        assert "ends with a torn line" in err and "okx-fsm repair MACHINE" in err
    assert cli.state_path.read_bytes() == state_file

    out = cli.machine("repair").stdout
    ahead = cli.state_path.with_name(cli.state_path.name + ".ahead-1")
    cut_seq = json.loads(last)["seq"]
    assert f"moved the torn tail of {cli.journal_path}" in out
    assert (
        f"moved the state file {cli.state_path} (at seq {cut_seq}, ahead of the journal's last seq "
        f"{cut_seq - 1}) aside to {ahead} (kept); the next tick rebuilds the state from the journal's last "
        "snapshot (seq "
    ) in out
    assert "and observes OKX again for what the lost records held" in out
    assert ahead.read_bytes() == state_file and not cli.state_path.exists()

    posts = cli.posts()
    doc = cli.tick(submit=True)
    assert doc["state"] == "partially_filled" and doc["tick"]["rolled_forward"] > 0
    assert cli.posts() == posts  # the rungs were found on OKX by clOrdId: nothing sent again
    venue = {o["clOrdId"]: o for o in cli.sim_orders()}
    assert {r["clOrdId"]: r["accFillSz"] for r in doc["rungs"]} == {
        r["clOrdId"]: venue[r["clOrdId"]]["accFillSz"] for r in doc["rungs"]
    }
    ours = {cl for cl in venue if cl.startswith("ertw")}
    venue_fills = sorted(f["tradeId"] for f in cli.sim.state()["fills"] if f["clOrdId"] in ours)
    assert sorted(f["tradeId"] for f in doc["fills"]) == venue_fills and venue_fills
    cli.assert_exchange_agrees()
    cli.machine("verify-log")
    assert ahead.read_bytes() == state_file  # still there, untouched


def test_status_of_a_state_dir_without_state_says_so_plainly(cli: Cli, tmp_path: Path) -> None:
    typo = tmp_path / "typo"
    out = cli.run("status", MACHINE, "--state-dir", str(typo)).stdout  # still exit 0
    state_file = typo / f"{MACHINE}_live.json"
    assert f"no state  no state file exists at {state_file} (and no journal)" in out
    doc = json.loads(cli.run("status", MACHINE, "--state-dir", str(typo), "--json").stdout)
    assert doc["exists"] is False and doc["state"] == "idle"
    assert not typo.exists()  # status writes nothing, not even the directory
    assert "no state file in this --state-dir" in cli.run("watch", MACHINE, "--state-dir", str(typo)).stdout
    cli.entries_open()
    assert cli.status()["exists"] is True
    assert "no state" not in cli.machine("status").stdout
    cli.state_path.unlink()  # the journal alone still holds the state (the next tick rebuilds the file)
    assert cli.status()["exists"] is True


def test_status_shows_the_runners_last_tick_and_warns_when_it_is_stale(cli: Cli) -> None:
    cli.entries_open()
    path = heartbeat_path(cli.state_path)
    fresh = Heartbeat("eth_robust_twap_15m", time.time() - 5, 0.12, "ok", 0, None, 30.0, None)
    path.write_text(json.dumps(fresh.to_dict()))
    shown = cli.machine("status").stdout
    assert "runner    last tick 5 s ago (0.12 s): ok; 0 failure(s) in a row" in shown
    assert "WARNING" not in shown
    doc = json.loads(cli.machine("status", "--json").stdout)
    assert doc["runner"]["stale"] is False and doc["runner"]["last_result"] == "ok"
    stale = Heartbeat(
        "eth_robust_twap_15m", time.time() - 600, 0.1, "failed: OkxTransportError: x", 4, None, 30.0, None
    )
    path.write_text(json.dumps(stale.to_dict()))
    shown = cli.machine("status").stdout
    assert "4 failure(s) in a row" in shown and "WARNING: no tick for over 90 s" in shown
    parked = Heartbeat(
        "eth_robust_twap_15m", time.time(), 0.1, "parked: SpecError: bad", 0, "SpecError: bad", 30.0, None
    )
    path.write_text(json.dumps(parked.to_dict()))
    assert "PARKED: SpecError: bad" in cli.machine("status").stdout


def test_a_stopped_or_quiet_runner_never_claims_push_is_on(cli: Cli) -> None:
    cli.entries_open()
    path = heartbeat_path(cli.state_path)
    push = {"connected": True, "last_push_exchange_ms": None, "reconnects": 0, "pushes": 3}

    def shown(beat: Heartbeat) -> tuple[str, str]:
        path.write_text(json.dumps(beat.to_dict()))
        watch = cli.run("watch", "eth_robust_twap_15m", "--state-dir", str(cli.state_dir)).stdout
        return watch, cli.machine("status").stdout

    watch, status = shown(
        Heartbeat("eth_robust_twap_15m", time.time() - 5, 0.1, "ok", 0, None, 30.0, push=push)
    )
    assert "push on" in watch and "push      connected, no push yet, 3 push(es)" in status
    stopped = Heartbeat("eth_robust_twap_15m", time.time() - 5, 0.1, "ok", 0, None, 30.0, push=push)
    stopped.stopped_wall_s = time.time() - 1
    watch, status = shown(stopped)
    assert "runner stopped" in watch and "push on" not in watch
    assert (
        "STOPPED: the runner stopped" in status and "push      unknown: the runner is not ticking" in status
    )
    watch, status = shown(
        Heartbeat("eth_robust_twap_15m", time.time() - 600, 0.1, "ok", 0, None, 30.0, push=push)
    )
    assert "runner quiet" in watch and "push on" not in watch and "connected" not in status


def test_control_commands_queue_for_the_runner_while_it_holds_the_state(cli: Cli) -> None:
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state
    from fsm.persist import spool

    cli.filled()
    loaded = load_machine("eth_robust_twap_15m", state_dir=cli.state_dir)
    posts = cli.posts()
    with open_machine_state(loaded):  # stands in for a running `okx-fsm run`
        for command in (
            ("pause",),
            ("resume",),
            ("flatten", "--submit"),
            ("close", "--submit"),
            ("cancel", "--submit"),
        ):
            out = cli.machine(*command).stdout
            assert f"queued for the running runner: {command[0]}" in out
    queued = [r.command for _, r in spool.pending(cli.state_path)]
    assert queued == ["pause", "resume", "flatten", "close", "cancel"]
    shown = cli.machine("status").stdout
    assert "5 request(s) queued for the runner: pause, resume, flatten, close, cancel" in shown
    assert cli.posts() == posts  # nothing was sent by the commands themselves


def test_a_direct_command_supersedes_what_a_stopped_runner_left_queued(cli: Cli) -> None:
    from fsm.engine.machine import load_machine
    from fsm.engine.tick import open_machine_state
    from fsm.persist import spool

    cli.tick()  # a state file, idle
    loaded = load_machine("eth_robust_twap_15m", state_dir=cli.state_dir)
    with open_machine_state(loaded):  # a runner holds the state, then stops before its next tick
        cli.machine("resume")
    [(_, stale)] = spool.pending(cli.state_path)
    out = cli.machine("pause").stdout  # no runner now: the pause acts at once
    assert "pause: paused" in out
    assert "superseded 1 older request(s) queued for a runner that never took them" in out
    assert f"resume ({stale.id})" in out and spool.pending(cli.state_path) == []
    records = [r["data"] for r in cli.journal() if r["kind"] == "operator"]
    assert [(r["command"], r["outcome"].split(":")[0]) for r in records] == [
        ("pause", "paused"),
        ("resume", "superseded by the direct pause"),
    ]
    assert records[1]["id"] == stale.id
    cli.signal()
    state_dir = str(cli.state_dir)
    cli.run(
        "run",
        "eth_robust_twap_15m",
        "--submit",
        "--ticks",
        "1",
        "--interval",
        "0.01",
        "--state-dir",
        state_dir,
    )
    assert (
        json_state(cli)["paused"] is True and json_state(cli)["state"] == "idle"
    )  # the old resume never ran
    assert cli.posts() == 0


def test_without_a_runner_pause_and_flatten_act_at_once(cli: Cli) -> None:
    cli.filled()
    assert "pause: paused" in cli.machine("pause").stdout
    assert json_state(cli)["paused"] is True
    assert "PAUSED: no new cycle starts" in cli.machine("status").stdout
    out = cli.machine("flatten", "--submit").stdout
    assert "flatten: flatten requested" in out and "filled -> filled" in out
    [exit_order] = [o for o in cli.sim.state()["orders"] if o["ordType"] == "market"]
    assert exit_order["clOrdId"].endswith("r0a0") and exit_order["reduceOnly"] == "true"


def json_state(cli: Cli) -> dict[str, object]:
    return json.loads(cli.state_path.read_text())["snapshot"]  # type: ignore[no-any-return]


def test_watch_prints_one_plain_snapshot_when_piped(cli: Cli) -> None:
    cli.partially_filled()
    posts = cli.posts()
    out = cli.run("watch", "eth_robust_twap_15m", "--state-dir", str(cli.state_dir)).stdout
    assert "okx-fsm watch" in out and "eth_robust_twap_15m" in out and "partially_filled" in out
    assert "r1:" in out and "r3:live" in out
    assert cli.posts() == posts  # read-only: nothing sent
