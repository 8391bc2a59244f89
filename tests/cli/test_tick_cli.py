"""The tick command's promises beyond the ladder paths: read-only never POSTs, one runner per state
file, refusal of another machine's state, independent machines, `check`, and the cost of a tick."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from fsm.engine.machine import load_machine
from fsm.persist.store import StateStore
from tests.cli.conftest import BAR_S, CEILING_S, MACHINE, Cli

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
LADDER_YAML = REPO / "machines" / f"{MACHINE}.yaml"
MISSPELT_YAML = REPO / "tests" / "fsm" / "fixtures" / f"{MACHINE}_misspelt_dest.yaml"


def requests_during(h: Cli, fn: Callable[[], object]) -> dict[str, int]:
    """The simulator's request counts caused by `fn()`, by "METHOD /path"."""
    before = dict(h.sim.stats()["requests"])
    fn()
    after = h.sim.stats()["requests"]
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


def test_read_only_ticks_never_post_across_a_whole_cycle_of_price_moves(cli: Cli) -> None:
    h = cli
    h.signal()
    doc = h.tick()
    assert doc["state"] == "intent_rendered"
    px = h.rung_prices(doc)
    for move in (px[0] - 2, px[1] - 2, px[2] - 5, px[0] + 40):  # through every rung and back
        h.sim.set_price(str(move))
        h.sim.advance(60)
        assert h.tick()["state"] == "intent_rendered"
    h.sim.advance(BAR_S * 4)  # the entry window passes
    assert h.tick()["state"] == "closed"
    assert h.tick()["tick"]["fired"][0]["dest"] == "idle"

    assert h.posts() == 0
    assert not any(k.startswith("POST ") for k in h.sim.stats()["requests"])
    assert h.sim_orders() == [] and h.sim.state()["fills"] == []
    assert not {"submit", "cancel", "ack"} & set(h.kinds())
    h.verify_log()


def test_steady_state_tick_with_entries_open_asks_time_pending_orders_and_fills_once(
    cli: Cli,
) -> None:
    h = cli
    h.signal()
    h.tick(submit=True)  # entries open
    h.tick(submit=True)  # the first look mirrors OKX's fields onto the rungs
    h.sim.advance(30)
    for submit in (True, False):
        asked = requests_during(h, functools.partial(h.tick, submit=submit))
        assert asked == {
            "GET /api/v5/public/time": 1,
            "GET /api/v5/trade/orders-pending": 1,
            "GET /api/v5/trade/fills": 1,
        }


def journal_strategies(journal: Path) -> set[str]:
    """The strategy_ids a journal's identity records name."""
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    return {r["data"]["identity"]["strategy_id"] for r in records if "identity" in r["data"]}


def _second_machine(tmp_path: Path) -> Path:
    """A copy of the ladder under another name, strategy, clOrdId prefix and state file."""
    spec = yaml.safe_load(LADDER_YAML.read_text())
    spec["machine"] = "eth_twin"
    spec["params"].update(
        strategy_id="eth_twin", client_order_id_prefix="etwin", state_file="eth_twin_live.json"
    )
    path = tmp_path / "machines" / "eth_twin.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_two_machines_in_one_state_dir_keep_independent_states(cli: Cli, tmp_path: Path) -> None:
    h = cli
    twin = str(_second_machine(tmp_path))
    state_dir = str(h.state_dir)
    h.signal()
    h.tick(submit=True)
    twin_doc = json.loads(h.run("tick", twin, "--state-dir", state_dir, "--json").stdout)
    ours = h.status()

    assert ours["state"] == "entries_open" and twin_doc["state"] == "intent_rendered"
    assert [r["state"] for r in twin_doc["rungs"]] == ["rendered"] * 3
    assert all(r["clOrdId"].startswith("etwin") for r in twin_doc["rungs"])
    assert all(r["clOrdId"].startswith("ertw") for r in ours["rungs"])
    assert sorted(p.name for p in h.state_dir.glob("*.json*")) == [
        "eth_robust_twap_15m_live.json",
        "eth_robust_twap_15m_live.json.lock",
        "eth_robust_twap_15m_live.jsonl",
        "eth_twin_live.json",
        "eth_twin_live.json.lock",
        "eth_twin_live.jsonl",
    ]
    ours_bytes = (h.state_dir / "eth_robust_twap_15m_live.json").read_bytes()
    h.sim.advance(60)
    assert json.loads(h.run("tick", twin, "--state-dir", state_dir, "--json").stdout)["state"] == (
        "intent_rendered"
    )
    assert (h.state_dir / "eth_robust_twap_15m_live.json").read_bytes() == ours_bytes
    assert journal_strategies(h.state_dir / "eth_twin_live.jsonl") == {"eth_twin"}
    assert journal_strategies(h.journal_path) == {MACHINE}
    h.verify_log()
    h.run("verify-log", twin, "--state-dir", state_dir)


def test_second_runner_on_a_locked_state_file_exits_5_at_once(cli: Cli) -> None:
    """At once: the holder keeps the lock until the tick has answered, so a tick that waited for the
    lock would never answer (the generous ceiling catches it), whatever the machine's speed."""
    h = cli
    machine = load_machine(MACHINE, state_dir=h.state_dir)
    with (
        ThreadPoolExecutor(max_workers=1) as pool,  # left last: a tick stuck on the lock gets it then
        StateStore(machine.state_path, machine.identity) as holder,
    ):
        holder.open()
        ticking = pool.submit(h.run, "tick", MACHINE, "--state-dir", str(h.state_dir), "--submit", expect=5)
        result = ticking.result(timeout=CEILING_S)
    assert str(machine.state_path) in result.stderr
    assert h.sim.stats()["total"] == 0  # refused before asking OKX anything


def test_state_file_of_another_symbol_is_refused_and_left_byte_identical(cli: Cli) -> None:
    h = cli
    h.tick()
    state_path = h.state_dir / f"{MACHINE}_live.json"
    document = json.loads(state_path.read_text())
    document["identity"]["symbol"] = "BTC-USDT-SWAP"
    state_path.write_text(json.dumps(document, sort_keys=True, indent=2) + "\n")
    state_bytes, journal_bytes = state_path.read_bytes(), h.journal_path.read_bytes()

    result = h.run("tick", MACHINE, "--state-dir", str(h.state_dir), "--submit", expect=3)
    assert "symbol" in result.stderr and "BTC-USDT-SWAP" in result.stderr
    assert state_path.read_bytes() == state_bytes and h.journal_path.read_bytes() == journal_bytes
    assert h.posts() == 0


def test_check_accepts_the_ladder_and_names_a_misspelt_dest(cli: Cli) -> None:
    h = cli
    assert "ok:" in h.run("check", str(LADDER_YAML)).stdout
    result = h.run("check", str(MISSPELT_YAML), expect=2)
    assert "filed" in result.stderr and MISSPELT_YAML.name in result.stderr
