"""An expTime deadline starts at the send, not at the start of the tick: a slow read before the POST
does not use the window up. Real time here (the simulator's clock runs as the wall clock does)."""

from __future__ import annotations

from pathlib import Path

from fsm.engine.machine import REPO_MACHINES
from tests.cli.conftest import MACHINE, driven


def test_a_slow_read_before_the_post_does_not_use_the_expiry_window_up(tmp_path: Path) -> None:
    text = (REPO_MACHINES / f"{MACHINE}.yaml").read_text()
    assert "  exp_time_ms: 5000\n" in text
    yaml_path = tmp_path / f"{MACHINE}.yaml"
    # The window leaves the POST itself 2 s from its send to the venue: generous on a busy machine.
    yaml_path.write_text(text.replace("  exp_time_ms: 5000\n", "  exp_time_ms: 2000\n"))
    with driven(tmp_path / "state", rate_limits=False, clock="realtime") as cli:
        cli.signal()
        # The orphan check's read comes after the tick fixed its time, before the batch: 3 s, longer
        # than the window.
        slow = {"endpoint": "GET /api/v5/trade/orders-pending", "kind": "latency_ms", "ms": 3000}
        cli.sim.set_faults([slow])
        cli.run("tick", str(yaml_path), "--state-dir", str(cli.state_dir), "--submit")
        rungs = [o for o in cli.sim_orders() if o["clOrdId"].startswith("ertw")]
        assert [o["state"] for o in rungs] == ["live", "live", "live"]  # no 50036: the deadline held
        assert cli.sim.stats()["faults"], cli.sim.stats()  # the slow read did happen
