"""`okx-fsm demo`: two full cycles against an in-process simulator, the same story for the same seed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fsm.cli.app import app

LADDER = "eth_robust_twap_15m"


def run_demo(state_dir: Path, *args: str, expect: int = 0) -> str:
    result = CliRunner().invoke(
        app, ["demo", "--state-dir", str(state_dir), *args], env={"NO_COLOR": "1"}, catch_exceptions=False
    )
    assert result.exit_code == expect, result.output
    return result.output


def last_hash(journal: Path) -> str:
    return str(json.loads(journal.read_text().splitlines()[-1])["hash"])


def test_demo_runs_both_cycles_and_leaves_state_journal_and_svg(tmp_path: Path) -> None:
    out = run_demo(tmp_path / "a", "--seed", "3")
    for step in (
        "idle -> intent_rendered",
        "intent_rendered -> entries_open",
        "entries_open -> partially_filled",
        "partially_filled -> filled",
        "filled -> closed",
        "entries_open -> cancelling",
        "cancelling -> closed",
        "closed -> idle",
    ):
        assert step in out, step
    assert "2 cycles completed, final state idle" in out
    names = (f"{LADDER}_live.json", f"{LADDER}_live.jsonl", f"{LADDER}.svg")
    state, journal, svg = (tmp_path / "a" / n for n in names)
    assert f"state file  {state}" in out and f"journal     {journal}" in out and f"diagram     {svg}" in out
    assert json.loads(state.read_text())["snapshot"]["cycles_completed"] == 2
    assert "<svg" in svg.read_text()
    verified = CliRunner().invoke(app, ["verify-log", LADDER, "--state-dir", str(tmp_path / "a")])
    assert verified.exit_code == 0, verified.output


def test_demo_tells_the_same_story_for_the_same_seed(tmp_path: Path) -> None:
    run_demo(tmp_path / "a", "--seed", "5")
    run_demo(tmp_path / "b", "--seed", "5")
    journals = [tmp_path / d / f"{LADDER}_live.jsonl" for d in "ab"]
    assert last_hash(journals[0]) == last_hash(journals[1])  # the hash chain covers every record


def test_demo_refuses_a_state_dir_that_already_holds_the_machine(tmp_path: Path) -> None:
    existing = tmp_path / f"{LADDER}_live.json"
    existing.write_text("{}")
    out = run_demo(tmp_path, expect=2)
    assert "already exists" in out
    assert existing.read_text() == "{}"
