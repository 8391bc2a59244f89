"""`status` and `verify-log` only read: a journal ahead of the state file, a torn tail, a held lock
or a stale temp file are reported or left for the next tick, and no file or directory entry changes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from fsm.engine.machine import load_machine
from fsm.persist.store import StateStore
from tests.cli.conftest import MACHINE, Cli

STALE_TEMP = f".{MACHINE}_live.json.k2j4_x9a.tmp"


def listing(directory: Path) -> dict[str, tuple[bytes, int]]:
    """Every entry's bytes and mtime_ns, the lock file's included, and the directory's own mtime_ns."""
    entries = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(directory.iterdir())}
    return {**entries, ".": (b"", directory.stat().st_mtime_ns)}


def crash_before_the_state_replace(cli: Cli) -> tuple[int, int]:
    """Fill the ladder, then put back the state file from before that tick, as a crash between the
    journal appends and the state file replace leaves it; the state file's seq and the journal's."""
    doc = cli.partially_filled()
    older = cli.state_path.read_bytes()
    cli.sim.set_price(str(Decimal(doc["rungs"][2]["px"]) - 1))
    for _ in range(6):
        cli.sim.advance(60)
    assert cli.tick(submit=True)["state"] == "filled"
    cli.state_path.write_bytes(older)
    last = json.loads(cli.journal_path.read_bytes().splitlines()[-1])
    return json.loads(older)["cursor"]["seq"], last["seq"]


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_status_shows_the_journal_ahead_and_writes_nothing(cli: Cli) -> None:
    state_seq, journal_seq = crash_before_the_state_replace(cli)
    before = listing(cli.state_dir)
    text = cli.machine("status").stdout
    doc = cli.json("status")
    assert listing(cli.state_dir) == before
    assert (
        f"recovery  journal ahead: the state file is at seq {state_seq}, the journal at seq {journal_seq}; "
        "showing the journal's state (the next tick rolls the state file forward)\n"
    ) in text
    assert doc["recovery"] == {"journal_ahead": True, "state_file_seq": state_seq, "journal_seq": journal_seq}
    assert doc["state"] == "filled" and doc["journal"]["seq"] == journal_seq  # what the next tick uses
    tick = cli.tick()
    assert tick["tick"]["rolled_forward"] == journal_seq - state_seq and tick["state"] == "filled"
    assert cli.json("status")["recovery"]["journal_ahead"] is False
    assert "recovery" not in cli.machine("status").stdout


def test_verify_log_reports_the_journal_ahead_and_writes_nothing(cli: Cli) -> None:
    state_seq, journal_seq = crash_before_the_state_replace(cli)
    before = listing(cli.state_dir)
    text = cli.machine("verify-log").stdout
    doc = cli.json("verify-log")
    assert listing(cli.state_dir) == before
    assert text == (
        f"ok: {cli.journal_path}: {journal_seq} records, last seq {journal_seq}, chain intact, "
        f"state file at seq {state_seq}; journal ahead by {journal_seq - state_seq} (a crash between the "
        "journal append and the state file replace): the next tick rolls the state file forward\n"
    )
    assert doc["state_cursor"]["seq"] == state_seq and doc["last_seq"] == journal_seq
    assert doc["journal_ahead_by"] == journal_seq - state_seq
    cli.tick()
    assert cli.json("verify-log")["journal_ahead_by"] == 0


def test_without_a_state_file_both_show_the_journal_and_create_nothing(cli: Cli) -> None:
    cli.entries_open()
    cli.state_path.unlink()
    before = listing(cli.state_dir)
    status = cli.json("status")
    verify = cli.json("verify-log")
    text = one_line(cli.machine("status").stdout + cli.machine("verify-log").stdout)
    assert listing(cli.state_dir) == before
    seq = verify["last_seq"]
    assert status["recovery"] == {"journal_ahead": True, "state_file_seq": None, "journal_seq": seq}
    assert status["state"] == "entries_open"
    assert verify["state_cursor"] is None and verify["journal_ahead_by"] == seq
    assert (
        f"journal ahead: there is no state file, the journal is at seq {seq}; showing the journal's state "
        "(the next tick rebuilds the state file from it)"
    ) in text
    assert f"no state file; journal ahead by {seq}: the next tick rebuilds the state file from it" in text


def test_a_torn_tail_is_refused_without_writing(cli: Cli) -> None:
    cli.entries_open()
    with cli.journal_path.open("ab") as handle:
        handle.write(b'{"data":{"evidence":')
    before = listing(cli.state_dir)
    for command in ("status", "verify-log"):
        for args in ((), ("--json",)):
            out = one_line(cli.machine(command, *args, expect=3).stderr)
            assert "ends with a torn line" in out and "Nothing was changed" in out
            assert "`okx-fsm repair MACHINE` moves the torn tail aside" in out
    assert listing(cli.state_dir) == before


def test_both_read_while_a_runner_holds_the_lock_and_leave_its_temp_files(cli: Cli) -> None:
    cli.entries_open()
    loaded = load_machine(MACHINE, state_dir=cli.state_dir)
    with StateStore(cli.state_path, loaded.identity) as runner:
        runner.open()
        (cli.state_dir / STALE_TEMP).write_bytes(b"the runner's state write in progress")
        before = listing(cli.state_dir)
        assert cli.json("status")["state"] == "entries_open"
        assert cli.json("verify-log")["journal_ahead_by"] == 0
        cli.machine("status")
        cli.machine("verify-log")
        assert listing(cli.state_dir) == before
        cli.machine("tick", expect=5)  # the runner still holds its lock
    assert (cli.state_dir / STALE_TEMP).exists()  # the runner died before its rename
    cli.tick()  # the next tick owns the lock: it clears the stale temp file
    assert not (cli.state_dir / STALE_TEMP).exists()
