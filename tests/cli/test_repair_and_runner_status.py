"""`repair` moves a torn journal tail aside and says what it moved; `status` shows the runner's heartbeat."""

from __future__ import annotations

import json
import time

from fsm.service.heartbeat import Heartbeat, heartbeat_path
from tests.cli.conftest import Cli

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
    assert "has no torn tail; nothing to repair" in err


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
        "run", "eth_robust_twap_15m", "--submit", "--ticks", "1", "--interval", "0", "--state-dir", state_dir
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
