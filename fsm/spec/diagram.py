"""Diagrams drawn from a machine's spec: Mermaid text, DOT text, and SVG/PNG through pygraphviz.

Every state and every row is drawn; an edge reads `trigger [guards, !unless] / actions`. Graphviz
modules are imported inside the functions that need them so the CLI starts fast.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

from fsm.spec.model import MachineSpec

Format = Literal["svg", "png"]

_CURRENT_FILL = "#ffd54f"
_CURRENT_STROKE = "#e65100"
_LOOP_SIDES = ("", "s", "n", "w")


def _source(spec: MachineSpec) -> str:
    """The machine's file, and the file its rows come from when it extends another."""
    if spec.rows_file == spec.path:
        return spec.path.name
    return f"{spec.path.name} (rows of {spec.rows_file.name})"


def to_mermaid(spec: MachineSpec, current: str | None = None) -> str:
    """A Mermaid `stateDiagram-v2`; `current`, when given, is highlighted with a classDef."""
    _check_current(spec, current)
    lines = [
        "stateDiagram-v2",
        f"    %% {spec.name} ({spec.kind}), rows in priority order, from {_source(spec)}",
        f"    classDef current fill:{_CURRENT_FILL},stroke:{_CURRENT_STROKE},stroke-width:3px",
    ]
    lines += [f"    {state.name}" for state in spec.states]
    lines.append(f"    [*] --> {spec.initial}")
    for row in spec.rows:  # labels need no escaping: the loader allows only [a-z][a-z0-9_]* names
        lines += [f"    {source} --> {row.dest} : {row.label}" for source in row.sources]
    lines += [f"    {state.name} --> [*]" for state in spec.states if state.terminal]
    if current is not None:
        lines.append(f"    class {current} current")
    return "\n".join(lines) + "\n"


def to_dot(spec: MachineSpec, current: str | None = None) -> str:
    """Graphviz DOT text with the same content; descriptions become tooltips."""
    import graphviz

    _check_current(spec, current)
    graph = graphviz.Digraph(
        name=spec.name,
        graph_attr={"label": f"{spec.name} ({spec.kind})", "labelloc": "t", "fontname": "Helvetica"},
        # An explicit `\N` (the node's name): a bare `label=""` on the start point must not become the
        # default label of every state when Graphviz reads the text back.
        node_attr={
            "label": "\\N",
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": "white",
            "fontname": "Helvetica",
        },
        edge_attr={"fontname": "Helvetica", "fontsize": "10"},
    )
    graph.node("__start__", label="", shape="point", width="0.15", fillcolor="black")
    for state in spec.states:
        attrs = {"tooltip": state.description or state.name}
        if state.terminal:
            attrs["peripheries"] = "2"
        if state.name == current:
            attrs.update(fillcolor=_CURRENT_FILL, color=_CURRENT_STROKE, penwidth="3")
        graph.node(state.name, **attrs)
    graph.edge("__start__", spec.initial)
    loops: Counter[str] = Counter()
    for row in spec.rows:
        for source in row.sources:
            attrs = {"label": row.label.replace(" / ", "\n/ "), "tooltip": row.description or row.label}
            if source == row.dest:
                # Graphviz stacks a node's self-loops on one side and their labels collide: after the
                # first, each loop goes round another side.
                side = _LOOP_SIDES[loops[source] % len(_LOOP_SIDES)]
                loops[source] += 1
                if side:
                    attrs.update(tailport=side, headport=side)
            graph.edge(source, row.dest, **attrs)
    return str(graph.source)


def render(spec: MachineSpec, fmt: Format, out: Path, current: str | None = None) -> None:
    """Write the diagram as SVG or PNG with the Graphviz bundled in the pygraphviz wheel."""
    import pygraphviz

    if fmt not in ("svg", "png"):
        raise ValueError(f"unsupported diagram format {fmt!r}: use svg or png")
    graph = pygraphviz.AGraph(string=to_dot(spec, current))
    graph.draw(path=str(out), format=fmt, prog="dot")


def _check_current(spec: MachineSpec, current: str | None) -> None:
    if current is not None and current not in spec.state_names:
        raise ValueError(f"machine {spec.name} has no state {current!r}")
