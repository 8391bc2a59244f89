"""A machine whose YAML rolls its journal per cycle: verify-log checks the chain across the segments,
and history reads them as one journal."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fsm.cli.app import app
from fsm.engine.machine import REPO_MACHINES, load_machine
from fsm.engine.tick import open_machine_state


def segmented_machine(tmp_path: Path) -> tuple[Path, Path]:
    text = (REPO_MACHINES / "eth_robust_twap_15m.yaml").read_text()
    yaml_path = tmp_path / "eth_robust_twap_15m.yaml"
    yaml_path.write_text(
        text.replace("  exp_time_ms: 5000\n", "  exp_time_ms: 5000\n  journal_segments: cycle\n")
    )
    return yaml_path, tmp_path / "state"


def test_verify_log_and_history_read_across_the_segments(tmp_path: Path) -> None:
    yaml_path, state_dir = segmented_machine(tmp_path)
    machine = load_machine(str(yaml_path), state_dir=state_dir)
    assert machine.params.journal_segments == "cycle"
    with open_machine_state(machine) as (store, state):
        for cycle in range(3):  # what a tick journals at each cycle's start and end, in short
            store.commit("intent", {"cycle": cycle}, state.to_dict(), 1_767_571_200_000 + cycle)
            store.commit("archive", {"cycle_id": f"c{cycle}"}, state.to_dict(), 1_767_571_200_500 + cycle)
    runner = CliRunner()
    args = [str(yaml_path), "--state-dir", str(state_dir), "--json"]
    verified = json.loads(runner.invoke(app, ["verify-log", *args], catch_exceptions=False).stdout)
    assert (verified["records"], verified["segments"], verified["first_seq"]) == (6, 3, 1)
    history = json.loads(runner.invoke(app, ["history", *args], catch_exceptions=False).stdout)
    assert [r["seq"] for r in history["records"]] == [1, 2, 3, 4, 5, 6]
    files = sorted(p.name for p in state_dir.glob("*.jsonl"))
    assert files == [
        "eth_robust_twap_15m_live.jsonl",
        "eth_robust_twap_15m_live.seg-000000000003.jsonl",
        "eth_robust_twap_15m_live.seg-000000000005.jsonl",
    ]
