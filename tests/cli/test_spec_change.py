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
