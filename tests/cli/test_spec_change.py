"""A machine whose YAML changed: refused until the operator accepts it, then journaled once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fsm.engine.machine import REPO_MACHINES
from tests.cli.conftest import MACHINE, Cli

pytestmark = pytest.mark.e2e


def test_changed_yaml_is_refused_until_accepted_and_the_acceptance_is_journaled(
    cli: Cli, tmp_path: Path
) -> None:
    h = cli
    original = REPO_MACHINES / f"{MACHINE}.yaml"
    edited = tmp_path / "machines" / f"{MACHINE}.yaml"
    edited.parent.mkdir()
    edited.write_text(original.read_text().replace('notional_per_rung: "100"', 'notional_per_rung: "120"'))
    assert edited.read_text() != original.read_text()
    state_dir = str(h.state_dir)
    h.signal()
    h.run("tick", str(original), "--state-dir", state_dir)
    before = (h.state_dir / f"{MACHINE}_live.json").read_bytes()

    refused = h.run("tick", str(edited), "--state-dir", state_dir, expect=3)
    assert "spec_hash" in refused.stderr and "--accept-spec-change" in refused.stderr
    assert (h.state_dir / f"{MACHINE}_live.json").read_bytes() == before

    h.run("reconcile", str(edited), "--state-dir", state_dir, "--accept-spec-change")
    h.run("tick", str(edited), "--state-dir", state_dir)  # accepted once, on the record: no flag needed now
    accepted = [r for r in h.journal() if r["kind"] == "operator"]
    assert len(accepted) == 1 and accepted[0]["data"]["command"] == "accept-spec-change"
    assert (
        accepted[0]["data"]["spec_hash_to"]
        == json.loads((h.state_dir / f"{MACHINE}_live.json").read_text())["identity"]["spec_hash"]
    )
    h.run("verify-log", str(edited), "--state-dir", state_dir)


def test_status_warns_that_tick_and_run_refuse_a_changed_yaml(cli: Cli, tmp_path: Path) -> None:
    h = cli
    original = REPO_MACHINES / f"{MACHINE}.yaml"
    edited = tmp_path / "machines" / f"{MACHINE}.yaml"
    edited.parent.mkdir()
    edited.write_text(original.read_text().replace("hold_bars: 8", "hold_bars: 9"))
    state_dir = str(h.state_dir)
    h.signal()
    h.run("tick", str(original), "--state-dir", state_dir)
    assert (
        json.loads(h.run("status", str(original), "--state-dir", state_dir, "--json").stdout)["spec_change"]
        is None
    )
    assert "WARNING" not in h.run("status", str(original), "--state-dir", state_dir).stdout

    shown = h.run("status", str(edited), "--state-dir", state_dir).stdout  # shown, exit 0
    assert "spec      WARNING: the YAML changed since this state was written" in shown
    assert "tick and run refuse it; if the change is intended, run `okx-fsm reconcile" in shown
    doc = json.loads(h.run("status", str(edited), "--state-dir", state_dir, "--json").stdout)
    state_hash = json.loads((h.state_dir / f"{MACHINE}_live.json").read_text())["identity"]["spec_hash"]
    yaml_hash = json.loads(h.run("check", str(edited), "--json").stdout)["spec_hash"]
    assert doc["spec_change"] == {"state_spec_hash": state_hash, "yaml_spec_hash": yaml_hash}
    assert state_hash != yaml_hash
    h.run("tick", str(edited), "--state-dir", state_dir, expect=3)  # what the warning says
