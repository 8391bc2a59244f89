"""Diagrams drawn from the YAML: every state and every row, the current state highlighted, SVG/PNG render."""

from __future__ import annotations

from pathlib import Path

import pygraphviz
import pytest

from fsm.engine.machine import load_ladder_spec, load_order_machine
from fsm.spec.diagram import render, to_dot, to_mermaid
from fsm.spec.model import MachineSpec

REPO = Path(__file__).resolve().parents[2]
LADDER = load_ladder_spec(REPO / "machines" / "eth_robust_twap_15m.yaml")
ORDER = load_order_machine(REPO / "machines" / "okx_order.yaml")
MACHINES = pytest.mark.parametrize("spec", [LADDER, ORDER], ids=lambda spec: spec.name)


def edges(spec: MachineSpec) -> list[tuple[str, str, str]]:
    return [(source, row.dest, row.label) for row in spec.rows for source in row.sources]


def test_edge_label_shows_trigger_guards_unless_and_actions() -> None:
    exit_row = "tick [exit_due, submit_armed, !close_sent, !stop_working] / close_position"
    assert LADDER.rows[20].label == exit_row
    assert LADDER.rows[3].label == "tick [any_fill]"
    assert ORDER.rows[0].label == "submit"


@MACHINES
def test_mermaid_has_every_state_and_every_row(spec: MachineSpec) -> None:
    lines = to_mermaid(spec).splitlines()

    assert lines[0] == "stateDiagram-v2"
    assert {f"    {name}" for name in spec.state_names} <= set(lines)
    assert f"    [*] --> {spec.initial}" in lines
    row_lines = [line for line in lines if " --> " in line and "[*]" not in line]
    assert row_lines == [f"    {source} --> {dest} : {label}" for source, dest, label in edges(spec)]
    terminal = {f"    {s.name} --> [*]" for s in spec.states if s.terminal}
    assert terminal == {line for line in lines if line.endswith("--> [*]")}
    assert not any(line.startswith("    class ") for line in lines)


def test_mermaid_highlights_the_current_state() -> None:
    text = to_mermaid(LADDER, current="partially_filled")
    assert "    classDef current " in text
    assert text.splitlines()[-1] == "    class partially_filled current"


def test_unknown_current_state_is_refused() -> None:
    with pytest.raises(ValueError, match="no state 'fild'"):
        to_mermaid(LADDER, current="fild")
    with pytest.raises(ValueError, match="no state 'fild'"):
        to_dot(LADDER, current="fild")


@MACHINES
def test_dot_has_every_state_and_every_row(spec: MachineSpec) -> None:
    graph = pygraphviz.AGraph(string=to_dot(spec))

    assert set(graph.nodes()) == {*spec.state_names, "__start__"}
    drawn = sorted((e[0], e[1], e.attr["label"].replace("\n", " ")) for e in graph.edges())
    assert drawn == sorted([*edges(spec), ("__start__", spec.initial, "")])
    for state in spec.states:
        peripheries = graph.get_node(state.name).attr["peripheries"] or "1"
        assert peripheries == ("2" if state.terminal else "1")


def test_dot_highlights_the_current_state_only() -> None:
    graph = pygraphviz.AGraph(string=to_dot(LADDER, current="cancelling"))
    filled = {n for n in graph.nodes() if n.attr["fillcolor"] not in ("white", "black", "")}
    assert filled == {"cancelling"}


@pytest.mark.parametrize("current", [None, "filled"])
def test_svg_renders_with_every_state_named(tmp_path: Path, current: str | None) -> None:
    out = tmp_path / "ladder.svg"
    render(LADDER, "svg", out, current=current)

    text = out.read_text()
    assert text.startswith(("<?xml", "<svg"))
    assert all(f">{name}</text>" in text for name in LADDER.state_names)


def test_png_renders(tmp_path: Path) -> None:
    out = tmp_path / "order.png"
    render(ORDER, "png", out, current="unknown")
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_other_formats_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported diagram format 'pdf'"):
        render(LADDER, "pdf", tmp_path / "x.pdf")  # type: ignore[arg-type]
