"""`extends:`: a machine that is its parent with other params; refusals name the file that made them."""

from __future__ import annotations

import hashlib
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from fsm.engine.machine import load_ladder_spec
from fsm.spec.diagram import to_mermaid
from fsm.spec.loader import load_spec
from fsm.spec.model import SpecError
from tests.fsm.test_spec import MARKER, TEST_VOCABULARY, marked_line

REPO = Path(__file__).resolve().parents[2]
ETH = REPO / "machines" / "eth_robust_twap_15m.yaml"
BTC = REPO / "machines" / "btc_robust_twap_1h.yaml"
FIXTURES = Path(__file__).parent / "fixtures" / "extends"

# checked fixture -> (the fixture the refusal names, where, field, a fragment of the problem)
EXTENDS_REFUSALS: dict[str, tuple[str, str, str, str]] = {
    "same_strategy_id": (
        "same_strategy_id",
        "params",
        "strategy_id",
        "'test_ladder' is also the strategy_id",
    ),
    "same_prefix": (
        "same_prefix",
        "params",
        "client_order_id_prefix",
        "'tl' is also the client_order_id_prefix of parent",
    ),
    "same_state_file": (
        "same_state_file",
        "params",
        "state_file",
        "'test_ladder.json' is also the state_file",
    ),
    "inherited_state_file": (
        "inherited_state_file",
        "params",
        "state_file",
        "inherits 'test_ladder.json' from parent.yaml: an extending machine needs its own",
    ),
    "without_params": ("without_params", "", "params", "missing: an extending machine gives at least"),
    "missing_parent": ("missing_parent", "", "extends", "the parent 'absent.yaml' does not exist"),
    "bare_name": ("bare_name", "", "extends", "'parent' is not a file name"),
    "cycle_a": ("cycle_b", "", "extends", "cycle: cycle_a.yaml -> cycle_b.yaml -> cycle_a.yaml"),
    "extends_order_machine": ("extends_order_machine", "", "extends", "only ladder machines extend"),
    "with_states": ("with_states", "", "states", "comes from the parent in an extending machine"),
    "child_of_bad_parent": ("bad_parent", "transitions[1]", "dest", "unknown state 'dnoe'"),
    "float_in_child": ("float_in_child", "params", "notional_per_rung", "floats lose money precision"),
    "sell_over_long": (
        "sell_over_long",
        "params",
        "side",
        "side sell opens a short position: pos_side must be",
    ),
    "grandchild_with_roots_prefix": (
        "grandchild_with_roots_prefix",
        "params",
        "client_order_id_prefix",
        "'tl' is also the client_order_id_prefix of parent.yaml",
    ),
}


def test_every_marked_extends_fixture_is_refused_by_a_case() -> None:
    marked = {path.stem for path in FIXTURES.glob("*.yaml") if MARKER in path.read_text()}
    assert marked == {refused for refused, *_ in EXTENDS_REFUSALS.values()}


@pytest.mark.parametrize("fixture", sorted(EXTENDS_REFUSALS))
def test_a_bad_extending_machine_is_refused_naming_file_line_and_field(fixture: str) -> None:
    refused, where, field, problem = EXTENDS_REFUSALS[fixture]
    path = FIXTURES / f"{refused}.yaml"
    with pytest.raises(SpecError) as caught:
        load_spec(FIXTURES / f"{fixture}.yaml", TEST_VOCABULARY)
    err, line = caught.value, marked_line(path)
    assert (err.path, err.where, err.line, err.field) == (path, where, line, field), str(err)
    assert problem in str(err)
    assert err.exit_code == 2


def test_a_chain_takes_the_roots_rows_and_every_layers_params() -> None:
    spec = load_spec(FIXTURES / "grandchild.yaml", TEST_VOCABULARY)
    root = load_spec(FIXTURES / "parent.yaml", TEST_VOCABULARY)
    assert (spec.name, spec.description, spec.path) == (
        "grandchild",
        "a test child",
        FIXTURES / "grandchild.yaml",
    )
    assert spec.files == tuple(FIXTURES / f"{n}.yaml" for n in ("parent", "middle", "grandchild"))
    assert (spec.states, spec.rows, spec.initial, spec.kind) == (
        root.states,
        root.rows,
        root.initial,
        "ladder",
    )
    params = spec.params
    assert (params["strategy_id"], params["client_order_id_prefix"], params["state_file"]) == (
        "grandchild",
        "tg",
        "grandchild.json",
    )
    assert params["bar"] == "1H"  # from the middle
    assert params["symbol"] == "ETH-USDT-SWAP"  # from the root
    # sizes replace the root's notional_per_rung instead of clashing with it
    assert (params["sizes"], params["notional_per_rung"]) == ((Decimal("0.5"), Decimal("0.25")), None)


def test_the_spec_hash_covers_every_file_in_order(tmp_path: Path) -> None:
    for name in ("parent", "middle", "grandchild"):
        shutil.copy(FIXTURES / f"{name}.yaml", tmp_path)
    parent, middle, child = (tmp_path / f"{n}.yaml" for n in ("parent", "middle", "grandchild"))

    def digest() -> str:
        return load_spec(child, TEST_VOCABULARY).spec_hash

    own = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (parent, middle, child)]
    first = digest()
    assert first == hashlib.sha256("".join(own).encode()).hexdigest()
    seen = {first}
    for path in (parent, middle, child):
        path.write_text(path.read_text() + "# edited\n")
        seen.add(digest())
    assert len(seen) == 4  # each edit changed it
    assert load_spec(parent, TEST_VOCABULARY).spec_hash == hashlib.sha256(parent.read_bytes()).hexdigest()


def test_the_btc_machine_is_the_eth_machine_on_btc_hourly() -> None:
    eth, btc = load_ladder_spec(ETH), load_ladder_spec(BTC)
    assert (btc.name, btc.files, btc.rows, btc.states) == (
        "btc_robust_twap_1h",
        (ETH, BTC),
        eth.rows,
        eth.states,
    )
    changed = {k for k in eth.params if eth.params[k] != btc.params[k]}
    assert changed == {
        "strategy_id",
        "client_order_id_prefix",
        "symbol",
        "bar",
        "notional_per_rung",
        "state_file",
    }
    assert (btc.params["symbol"], btc.params["bar"]) == ("BTC-USDT-SWAP", "1H")
    assert "from btc_robust_twap_1h.yaml (rows of eth_robust_twap_15m.yaml)" in to_mermaid(btc)


def test_a_row_the_engine_refuses_names_the_parents_file(tmp_path: Path) -> None:
    text = ETH.read_text()
    row = "  - trigger: tick\n    source: entries_open\n    dest: partially_filled"
    assert text.count(row) == 1
    parent = tmp_path / ETH.name
    parent.write_text(text.replace(row, row.replace("tick", "tock")))
    shutil.copy(BTC, tmp_path)
    with pytest.raises(SpecError) as caught:
        load_ladder_spec(tmp_path / BTC.name)
    assert (caught.value.path, caught.value.where, caught.value.field) == (
        parent,
        "transitions[3]",
        "trigger",
    )
