"""The YAML is the only place a state is named: the production Python never spells one.

Every state name of every shipped machine is looked for in the engine's Python: as a string constant
anywhere in code (docstrings aside: "filled" and "closed" are English too), and, for the names no
English sentence uses (intent_rendered, rejected_post_only, ...), anywhere at all, comments and
docstrings included. The demo's story text may name states: it tells what the shipped machine does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ALLOWED = (REPO / "fsm" / "demo",)


def shipped_state_names() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "machines").glob("*.yaml"):
        names |= {state["name"] for state in yaml.safe_load(path.read_text()).get("states", [])}
    return names


def docstring_nodes(tree: ast.AST) -> set[int]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, kinds)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def hits(path: Path, names: set[str], root: Path = REPO) -> list[str]:
    source, where = path.read_text(), path.relative_to(root)
    tree = ast.parse(source)
    docs = docstring_nodes(tree)
    found = [
        f"{where}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in names and id(node) not in docs
    ]
    coined = sorted(name for name in names if "_" in name)
    for number, line in enumerate(source.splitlines(), 1):
        found += [f"{where}:{number}: {name}" for name in coined if re.search(rf"\b{name}\b", line)]
    return found


def test_the_shipped_machines_name_states_the_scan_knows() -> None:
    names = shipped_state_names()
    assert {"idle", "intent_rendered", "filled", "rendered", "rejected_post_only"} <= names


def test_no_state_name_is_spelt_in_the_engine() -> None:
    names = shipped_state_names()
    sources = [
        path
        for path in sorted((REPO / "fsm").rglob("*.py"))
        if not any(path.is_relative_to(allowed) for allowed in ALLOWED)
    ]
    assert len(sources) > 20
    assert [hit for path in sources for hit in hits(path, names)] == []


def test_the_scan_finds_a_state_name_where_one_is_spelt(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text('"""A docstring may say filled."""\n\nSTATE = "filled"\n# intent_rendered\n')
    assert hits(planted, shipped_state_names(), tmp_path) == [
        "planted.py:3: 'filled'",
        "planted.py:4: intent_rendered",
    ]
