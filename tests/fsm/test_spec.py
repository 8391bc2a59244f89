"""The spec loader: the shipped machines load clean; every bad file is refused naming file, row and field."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from exchange.paths import CANDLES_MAX
from fsm.engine.machine import VOCABULARY, load_ladder_spec, load_machine, load_order_machine
from fsm.errors import EngineError
from fsm.spec.ladder import LadderParams
from fsm.spec.loader import load_order_spec, load_spec
from fsm.spec.model import Needs, SpecError, Vocabulary

REPO = Path(__file__).resolve().parents[2]
LADDER = REPO / "machines" / "eth_robust_twap_15m.yaml"
ORDER = REPO / "machines" / "okx_order.yaml"
FIXTURES = Path(__file__).parent / "fixtures"
MISSPELT_DEST = FIXTURES / "eth_robust_twap_15m_misspelt_dest.yaml"

TEST_VOCABULARY = Vocabulary(
    guards={**VOCABULARY.guards, **dict.fromkeys(("ready", "go", "stop", "armed"), Needs())},
    actions={**VOCABULARY.actions, **dict.fromkeys(("send", "archive"), Needs())},
)
LADDER_GUARDS = frozenset(VOCABULARY.guards)
LADDER_ACTIONS = frozenset(VOCABULARY.actions)
MARKER = "# <- refused"


def load_fixture(path: Path) -> None:
    load_spec(path, TEST_VOCABULARY)


def marked_line(path: Path) -> int:
    """The line a fixture marks with `# <- refused`: where the refusal must point."""
    lines = [i for i, text in enumerate(path.read_text().splitlines(), 1) if MARKER in text]
    assert len(lines) == 1, f"{path.name} must mark exactly one line"
    return lines[0]


# fixture -> (where: a row/state/section or "" for the top level, field, a fragment of the problem)
REFUSALS: dict[str, tuple[str, str, str]] = {
    "unknown_source_state": ("transitions[1]", "source", "unknown state 'wroking' (did you mean 'working'?)"),
    "unknown_initial_state": ("", "initial", "unknown state 'idel'"),
    "unknown_guard": ("transitions[2]", "guards[0]", "unknown guard 'stpo'"),
    "unknown_unless_guard": ("transitions[2]", "unless[0]", "unknown guard 'nope'"),
    "unknown_action": ("transitions[0]", "actions[0]", "unknown action 'sned'"),
    "duplicate_state": ("states[3]", "name", "duplicate state 'working'"),
    "unreachable_state": ("states[3]", "name", "'orphan' is unreachable from initial 'idle'"),
    "dead_end_state": ("states[3]", "name", "non-terminal state 'stuck' has no row leaving it"),
    "row_always_beaten": ("transitions[4]", "guards", "never fires: transitions[1] (line 26)"),
    "guard_also_unless": ("transitions[3]", "unless", "'go' is also in guards"),
    "terminal_source": ("transitions[2]", "source", "'done' is terminal"),
    "yaml11_boolean_trigger": ("transitions[3]", "trigger", "YAML 1.1 boolean"),
    "yaml11_boolean_state": ("states[3]", "name", "YAML 1.1 boolean"),
    "missing_param": ("params", "hold_bars", "missing"),
    "float_offset": ("params", "offsets[0]", "floats lose money precision"),
    "mistyped_param": ("params", "expiry_bars", "must be an integer, got a string"),
    "unknown_param": ("params", "symbl", "unknown key"),
    "decreasing_offsets": ("params", "offsets[1]", "greater than the offset before it"),
    "signal_missing_lookback": ("params", "signal.lookback_bars", "missing"),
    "buy_with_pos_side_short": (
        "params",
        "pos_side",
        "side buy opens a long position: pos_side must be long",
    ),
    "sell_with_pos_side_long": (
        "params",
        "pos_side",
        "side sell opens a short position: pos_side must be short",
    ),
    "sell_with_close_above_ref": (
        "params",
        "signal.entry_filter",
        "close_above_ref does not fit side sell: the rungs rest above the reference, "
        "so use close_below_ref or none",
    ),
    "sizes_and_notional": ("params", "sizes", "give notional_per_rung or sizes, not both"),
    "sizes_nor_notional": ("params", "notional_per_rung", "missing: give notional_per_rung"),
    "sizes_length_mismatch": ("params", "sizes", "3 sizes for 2 offsets: give one size per offset"),
    "zero_size": ("params", "sizes[1]", "must be greater than 0 (contracts), got 0"),
    "twenty_one_rungs": (
        "params",
        "offsets",
        "has 21 rungs: OKX takes at most 20 orders in one batch-orders",
    ),
    "unknown_top_key": ("", "on_error", "unknown key"),
    "duplicate_key": ("transitions[1]", "dest", "duplicate key"),
    "name_not_stem": ("", "machine", "must equal the file name's stem 'name_not_stem'"),
    "ignore_in_ladder": ("", "ignore", "only order and stop machines"),
    "ignore_twice": ("ignore[1]", "source", "('seen_done', 'done') is already ignored by ignore[0]"),
    "ignore_also_row": ("ignore[1]", "source", "('send', 'new') is also a row: transitions[0]"),
    "order_row_with_guard": ("transitions[0]", "guards", "order machines take no guards"),
    "invalid_yaml": ("", "", "not valid YAML"),
    "state_without_tracks": ("states[1]", "tracks", "missing: what the tick observes here"),
    "unknown_track": ("states[1]", "tracks[1]", "unknown 'postion' (did you mean 'position'?)"),
    "guard_reads_untracked": (
        "transitions[1]",
        "guards[0]",
        "guard 'position_flat' reads fills, orders, position, but state 'working' does not track position "
        "(add it to states[1] (line 7) tracks)",
    ),
    "action_leaves_untracked": (
        "transitions[0]",
        "actions[0]",
        "action 'submit_entries' leaves on OKX fills, orders, but state 'working' does not track fills",
    ),
    "state_without_role": ("states[1]", "role", "missing"),
    "unknown_role": (
        "states[2]",
        "role",
        "'finished' must be one of unsent, in_flight, resting, ended, refused",
    ),
    "initial_not_unsent": ("", "initial", "'new' has role 'resting'; an order machine starts unsent"),
    "stop_loss_out_of_range": ("params", "stop.loss", "must be between 0 and 1 (exclusive), got 1.5"),
    "stop_unknown_trigger_px_type": (
        "params",
        "stop.trigger_px_type",
        "'fair' must be one of last, mark, index",
    ),
    "stop_missing_on_refused": ("params", "stop.on_refused", "missing"),
    "take_profit_without_stop": (
        "params",
        "take_profit",
        "a take-profit rides on the stop's order: declare stop too",
    ),
    "stop_unknown_role": (
        "states[1]",
        "role",
        "'resting' must be one of unsent, in_flight, unseen, working, cancel_requested, fired, ended, "
        "refused",
    ),
    "stop_machine_with_params": ("", "params", "stop machines take no params"),
}


def test_every_fixture_has_a_refusal_case() -> None:
    marked = {path.stem for path in FIXTURES.glob("*.yaml") if MARKER in path.read_text()}
    assert marked == set(REFUSALS)


@pytest.mark.parametrize("fixture", sorted(REFUSALS))
def test_bad_machine_is_refused_naming_file_row_and_field(fixture: str) -> None:
    where, field, problem = REFUSALS[fixture]
    path = FIXTURES / f"{fixture}.yaml"
    with pytest.raises(SpecError) as caught:
        load_fixture(path)
    err = caught.value
    line = marked_line(path)
    place = f"{where} (line {line})" if where else f"line {line}"
    expected_start = f"{path}: {place}: " + (f"{field}: " if field else "")
    assert str(err).startswith(expected_start), str(err)
    assert problem in str(err)
    assert (err.path, err.where, err.line, err.field) == (path, where, line, field)


def test_misspelt_dest_in_a_copy_of_the_eth_machine_is_named() -> None:
    good = LADDER.read_text().splitlines()
    bad = MISSPELT_DEST.read_text().splitlines()
    changed = [i for i, (a, b) in enumerate(zip(good, bad, strict=True)) if a != b]
    assert [bad[i].strip() for i in changed] == ["dest: filed"]
    row = load_ladder_spec(LADDER).rows[6]

    with pytest.raises(SpecError) as caught:
        load_ladder_spec(MISSPELT_DEST)

    assert str(caught.value) == (
        f"{MISSPELT_DEST}: transitions[6] (line {row.line}): "
        "dest: unknown state 'filed' (did you mean 'filled'?)"
    )
    assert caught.value.exit_code == 2
    assert isinstance(caught.value, EngineError)


PLACE, RESIZE, CLOSE = ("place_stop",), ("resize_stop",), ("close_position",)
CANCEL = ("cancel_working_rungs",)


def test_eth_ladder_loads_with_its_rows_in_file_order_and_typed_params() -> None:
    spec = load_ladder_spec(LADDER)

    assert (spec.name, spec.kind, spec.initial) == ("eth_robust_twap_15m", "ladder", "idle")
    assert spec.state_names == (
        "idle", "intent_rendered", "entries_open", "partially_filled", "filled", "cancelling", "closed",
    )  # fmt: skip
    assert [(r.sources, r.dest, r.guards, r.unless, r.actions) for r in spec.rows] == [
        (("idle",), "intent_rendered", ("signal_ready",), ("paused", "cooling_down"), ("render_intent",)),
        (("intent_rendered",), "closed", ("entry_expired",), (), ("archive_cycle",)),
        (
            ("intent_rendered",),
            "entries_open",
            ("submit_armed",),
            ("submit_in_doubt", "flatten_requested", "risk_refused"),
            ("submit_entries",),
        ),
        (("entries_open",), "partially_filled", ("any_fill",), (), ()),
        (("entries_open",), "closed", ("all_rungs_terminal",), (), ("archive_cycle",)),
        (("entries_open",), "cancelling", ("entry_expired", "submit_armed"), (), ("cancel_working_rungs",)),
        (("partially_filled",), "filled", ("all_rungs_terminal",), (), ()),
        (("partially_filled",), "partially_filled", ("stop_missing", "submit_armed"), (), PLACE),
        (("partially_filled",), "partially_filled", ("stop_resize_due", "submit_armed"), (), RESIZE),
        (("partially_filled",), "cancelling", ("stop_refused", "submit_armed"), (), CANCEL),
        (
            ("partially_filled",),
            "cancelling",
            ("entry_expired", "submit_armed"),
            (),
            ("cancel_working_rungs",),
        ),
        (("cancelling",), "filled", ("all_rungs_terminal", "any_fill"), (), ()),
        (("cancelling",), "closed", ("all_rungs_terminal",), (), ("archive_cycle",)),
        (("cancelling",), "cancelling", ("submit_armed", "cancel_retry_due"), (), ("cancel_working_rungs",)),
        (("cancelling",), "cancelling", ("stop_missing", "submit_armed"), (), PLACE),
        (("cancelling",), "cancelling", ("stop_resize_due", "submit_armed"), (), RESIZE),
        (("filled",), "closed", ("position_flat",), ("stop_working",), ("archive_cycle",)),
        (("filled",), "filled", ("stop_missing", "submit_armed"), ("exiting",), PLACE),
        (("filled",), "filled", ("exiting", "stop_cancel_due", "submit_armed"), (), ("cancel_stop",)),
        (("filled",), "filled", ("stop_resize_due", "submit_armed"), ("exiting",), RESIZE),
        (("filled",), "filled", ("exit_due", "submit_armed"), ("close_sent", "stop_working"), CLOSE),
        (("filled",), "filled", ("close_requested", "submit_armed"), ("close_sent", "stop_working"), CLOSE),
        (("filled",), "filled", ("stop_refused", "submit_armed"), ("close_sent",), ("on_stop_refused",)),
        (
            ("closed",),
            "closed",
            ("strays_on_book", "stray_cancel_due", "submit_armed"),
            (),
            ("cancel_working_rungs",),
        ),
        (("closed",), "closed", ("stop_cancel_due", "submit_armed"), (), ("cancel_stop",)),
        (
            ("closed",),
            "idle",
            ("closed_in_earlier_tick",),
            ("strays_on_book", "stop_working"),
            ("reset_cycle",),
        ),
        (("intent_rendered",), "closed", ("flatten_requested",), (), ("archive_cycle",)),
        (
            ("entries_open", "partially_filled"),
            "cancelling",
            ("flatten_requested", "submit_armed"),
            (),
            ("cancel_working_rungs",),
        ),
        (("filled",), "filled", ("flatten_requested", "submit_armed"), ("close_sent", "stop_working"), CLOSE),
        (
            ("intent_rendered",),
            "closed",
            ("submit_armed", "risk_refused"),
            ("submit_in_doubt", "flatten_requested"),
            ("refuse_entries", "archive_cycle"),
        ),
    ]
    assert all(row.trigger == "tick" and row.description for row in spec.rows)
    assert [row.index for row in spec.rows] == list(range(30))
    assert spec.spec_hash == hashlib.sha256(LADDER.read_bytes()).hexdigest()
    params = spec.params
    assert params["offsets"] == (Decimal("0.003"), Decimal("0.006"), Decimal("0.009"))
    assert params["notional_per_rung"] == Decimal("100")
    assert (params["strategy_id"], params["client_order_id_prefix"], params["symbol"], params["bar"]) == (
        "eth_robust_twap_15m", "ertw", "ETH-USDT-SWAP", "15m",
    )  # fmt: skip
    assert (params["td_mode"], params["pos_side"], params["side"]) == ("isolated", "long", "buy")
    assert (params["expiry_bars"], params["hold_bars"], params["cancel_retry_seconds"]) == (4, 8, 30)
    assert dict(params["signal"]) == {
        "provider": "robust_twap", "lookback_bars": 16, "entry_filter": "close_above_ref",
    }  # fmt: skip
    assert params["state_file"] == "eth_robust_twap_15m_live.json"
    assert dict(params["stop"]) == {"loss": Decimal("0.02"), "trigger_px_type": "mark", "on_refused": "exit"}
    assert params["take_profit"] is None


def test_ladder_registries_name_exactly_what_the_eth_machine_uses() -> None:
    spec = load_ladder_spec(LADDER)
    assert {g for row in spec.rows for g in (*row.guards, *row.unless)} == LADDER_GUARDS
    assert {a for row in spec.rows for a in row.actions} == LADDER_ACTIONS


def test_order_machine_loads_as_an_order_machine() -> None:
    spec = load_order_spec(ORDER)
    assert spec.kind == "order"
    assert (spec.name, spec.kind, spec.initial, dict(spec.params)) == ("okx_order", "order", "rendered", {})
    terminal = {state.name for state in spec.states if state.terminal}
    assert terminal == {"filled", "canceled", "rejected", "rejected_post_only"}


def test_order_machine_loader_refuses_a_ladder() -> None:
    with pytest.raises(SpecError, match=re.escape("kind: expected 'order' here, got 'ladder'")):
        load_order_spec(LADDER)


def test_registry_without_a_guard_the_machine_uses_refuses_the_machine() -> None:
    with pytest.raises(SpecError, match=re.escape("guards[0]: unknown guard 'signal_ready'")):
        guards = {k: v for k, v in VOCABULARY.guards.items() if k != "signal_ready"}
        load_spec(LADDER, Vocabulary(guards=guards, actions=VOCABULARY.actions))


def rewritten(tmp_path: Path, name: str, old: str, new: str, source: Path = LADDER) -> Path:
    text = source.read_text()
    assert text.count(old) == 1
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('notional_per_rung: "100"', "notional_per_rung: 100", "notional_per_rung: is an integer (100)"),
        ('notional_per_rung: "100"', 'notional_per_rung: "0"', "notional_per_rung: must be greater than 0"),
        ('["0.003", "0.006", "0.009"]', '["0.003", "1.5"]', "offsets[1]: must be between 0 and 1"),
        ('["0.003", "0.006", "0.009"]', '["0.003", "abc"]', "offsets[1]: 'abc' is not a decimal number"),
        ('["0.003", "0.006", "0.009"]', "[]", "offsets: must be a non-empty list"),
        ("bar: 15m", "bar: 15M", "bar: '15M' must be one of 1m, 3m, 5m, 15m, 30m, 1H, 4H"),
        (
            "client_order_id_prefix: ertw",
            "client_order_id_prefix: 9ertw",
            "client_order_id_prefix: '9ertw' must match",
        ),
        (
            "client_order_id_prefix: ertw",
            "client_order_id_prefix: ertwertwx",
            "client_order_id_prefix: 'ertwertwx' must match",
        ),
        ("td_mode: isolated", "td_mode: cash", "td_mode: 'cash' must be one of isolated, cross"),
        ("hold_bars: 8", "hold_bars: 0", "hold_bars: must be at least 1"),
        ("lookback_bars: 16", "lookback_bars: 2", "signal.lookback_bars: must be at least 3"),
        ("provider: robust_twap", "provider: file", "lookback_bars: not a parameter of provider 'file'"),
        ("state_file: eth_robust_twap_15m_live.json", "state_file: ../x.json", "must be a plain file name"),
        ("state_file: eth_robust_twap_15m_live.json", "state_file: live.txt", "ending in .json"),
        ("kind: ladder", "kind: ladderr", "kind: 'ladderr' must be one of ladder, order"),
        ("    dest: idle\n", "    dest:\n", "dest: missing"),
        ("    source: idle\n", "    source: []\n", "source: must name at least one state"),
        ("guards: [signal_ready]", "guards: signal_ready", "guards: must be a list of names, got a string"),
        ("guards: [signal_ready]", "guards: [signal_ready, signal_ready]", "'signal_ready' is listed twice"),
        ("{name: idle, tracks: [signal], ", "{name: idle, tracks: yes please, ", "tracks: must be a list"),
    ],
)
def test_mistyped_value_is_refused_naming_the_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = rewritten(tmp_path, LADDER.name, old, new)
    with pytest.raises(SpecError, match=re.escape(message)):
        load_ladder_spec(path)


def test_on_reducing_is_cancel_entries_or_keep_and_a_bad_value_is_named_at_its_line(tmp_path: Path) -> None:
    after = "  td_mode: isolated\n"
    kept = rewritten(tmp_path, LADDER.name, after, f"{after}  on_reducing: keep\n")
    assert load_ladder_spec(kept).params["on_reducing"] == "keep"
    assert load_ladder_spec(LADDER).params["on_reducing"] == "cancel_entries"  # the default
    line = LADDER.read_text().splitlines().index(after.rstrip("\n")) + 2  # the line after td_mode
    bad = rewritten(tmp_path, LADDER.name, after, f"{after}  on_reducing: hold\n")
    with pytest.raises(SpecError) as caught:
        load_ladder_spec(bad)
    assert (caught.value.path, caught.value.line) == (bad, line)
    assert "on_reducing: 'hold' must be one of cancel_entries, keep" in str(caught.value)


def test_a_lookback_beyond_one_candles_request_is_refused_at_its_line(tmp_path: Path) -> None:
    """A tick asks for lookback_bars + 2 candles in one request; OKX returns at most 300 (limit 1..300)."""
    path = rewritten(tmp_path, LADDER.name, "lookback_bars: 16", "lookback_bars: 100000")
    with pytest.raises(SpecError) as refused:
        load_ladder_spec(path)
    line = path.read_text().splitlines().index("    lookback_bars: 100000") + 1
    assert (refused.value.path, refused.value.line) == (path, line)
    assert refused.value.field == "signal.lookback_bars"
    assert "must be at most 298, got 100000" in refused.value.problem
    most = rewritten(tmp_path, LADDER.name, "lookback_bars: 16", "lookback_bars: 298")
    params = LadderParams.from_mapping(load_ladder_spec(most).params, base_dir=tmp_path)
    assert params.signal.candles_limit == CANDLES_MAX  # the longest lookback still fits one request


def test_file_provider_needs_a_path_and_nothing_else(tmp_path: Path) -> None:
    twap = "provider: robust_twap\n    lookback_bars: 16\n    entry_filter: close_above_ref\n"
    path = rewritten(tmp_path, LADDER.name, twap, "provider: file\n    path: signal.json\n")
    spec = load_ladder_spec(path)
    assert dict(spec.params["signal"]) == {"provider": "file", "path": "signal.json"}


def test_quoted_yaml11_boolean_is_a_fine_name(tmp_path: Path) -> None:
    text = (FIXTURES / "yaml11_boolean_trigger.yaml").read_text().replace("trigger: on", "trigger: 'on'")
    path = tmp_path / "yaml11_boolean_trigger.yaml"
    path.write_text(text)
    load_fixture(path)


def test_unreadable_and_non_mapping_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read the file"):
        load_fixture(tmp_path / "absent.yaml")
    listing = tmp_path / "listing.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(SpecError, match="must be a YAML mapping"):
        load_fixture(listing)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"machine: \xff\xfe\n")
    with pytest.raises(SpecError, match="not UTF-8 text"):
        load_fixture(binary)


def test_a_ladder_row_on_a_trigger_the_engine_never_fires_is_refused(tmp_path: Path) -> None:
    row = load_ladder_spec(LADDER).rows[3]
    row_text = "  - trigger: tick\n    source: entries_open\n    dest: partially_filled"
    path = rewritten(tmp_path, LADDER.name, row_text, row_text.replace("tick", "tock"))
    with pytest.raises(SpecError) as caught:
        load_ladder_spec(path)
    assert (caught.value.where, caught.value.line, caught.value.field) == (
        "transitions[3]",
        row.line,
        "trigger",
    )
    assert "'tock': the engine fires only 'tick'" in str(caught.value)


def test_an_order_machine_must_declare_every_observation_and_only_those(tmp_path: Path) -> None:
    vanished = "  - {trigger: vanished, source: [canceled, rejected, rejected_post_only]}\n"
    path = rewritten(tmp_path, ORDER.name, vanished, "", source=ORDER)
    text = path.read_text()
    start = text.index("  - {trigger: vanished, source: [live")
    path.write_text(text[:start] + text[text.index("  - {trigger: cancel_sent, source: [live") :])
    with pytest.raises(SpecError, match="declares no row or ignore for vanished: the engine fires them"):
        load_order_machine(path)

    path = rewritten(
        tmp_path, ORDER.name, vanished, "  - {trigger: vanishd, source: [canceled]}\n", source=ORDER
    )
    with pytest.raises(SpecError) as caught:
        load_order_machine(path)
    assert (caught.value.where, caught.value.field) == ("ignore[17]", "trigger")
    assert "'vanishd' is never fired by the engine" in str(caught.value)


def test_a_renamed_state_keeps_its_meaning(tmp_path: Path) -> None:
    path = tmp_path / LADDER.name
    path.write_text(re.sub(r"\bfilled\b", "holding", LADDER.read_text()))
    spec = load_ladder_spec(path)
    assert spec.state("holding").tracks == load_ladder_spec(LADDER).state("filled").tracks
    assert "filled" not in spec.state_names


def test_a_declared_stop_that_no_row_places_is_refused(tmp_path: Path) -> None:
    """A ladder whose params declare a stop but whose rows never run place_stop would hold its position
    unprotected while claiming a stop: `check` refuses it."""
    path = tmp_path / "eth_robust_twap_15m.yaml"
    text = LADDER.read_text()
    assert "actions: [place_stop]" in text
    path.write_text(text.replace("actions: [place_stop]", "actions: [resize_stop]"))
    with pytest.raises(SpecError) as caught:
        load_machine(str(path), state_dir=tmp_path)
    assert str(caught.value) == (
        f"{path}: params: stop: a stop is declared but no row runs place_stop: the position would be held "
        "unprotected"
    )
    assert caught.value.exit_code == 2


def _tree(node: Any) -> Any:
    """What the readers use of a node: its tag, its line, a scalar's value and plainness, the children."""
    if isinstance(node, yaml.ScalarNode):
        return node.tag, node.start_mark.line, node.value, not node.style
    if isinstance(node, yaml.MappingNode):
        return node.tag, node.start_mark.line, [(_tree(key), _tree(value)) for key, value in node.value]
    return node.tag, node.start_mark.line, [_tree(child) for child in node.value]


def _parse(loader_class: Any, text: str) -> Any:
    try:
        return _tree(loader_class(text).get_single_node())
    except yaml.YAMLError:
        return "refused"


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="without libyaml, read_yaml parses in Python only")
@pytest.mark.parametrize(
    "path", sorted([*REPO.glob("machines/*.yaml"), *FIXTURES.rglob("*.yaml")]), ids=lambda p: p.name
)
def test_libyaml_reads_every_file_as_the_python_parser_does(path: Path) -> None:
    """read_yaml takes libyaml's tree for speed: the same tags, lines, values and plain scalars (a YAML
    1.1 boolean is refused only when plain) as the pure-Python parser's, or a refusal from both."""
    text = path.read_text()
    assert _parse(yaml.CSafeLoader, text) == _parse(yaml.SafeLoader, text)
