"""`okx-fsm diagram`: drawn from the YAML, every state and row, the current state highlighted."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fsm.cli.app import app
from fsm.engine.machine import load_machine
from tests.cli.conftest import MACHINE, Cli

SPEC = load_machine(MACHINE, state_dir=Path("state")).spec


def draw(*args: str) -> str:
    result = CliRunner().invoke(app, ["diagram", MACHINE, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_diagram_text_has_every_state_and_row(fmt: str, tmp_path: Path) -> None:
    text = draw("--format", fmt, "--state-dir", str(tmp_path))
    for state in SPEC.state_names:
        assert state in text
    for row in SPEC.rows:
        label = row.label if fmt == "mermaid" else row.label.replace(" / ", "\n/ ")
        assert label in text, label
    # No state file: nothing highlighted.
    assert not any(line.strip().startswith("class ") for line in text.splitlines())
    assert "penwidth" not in text


def test_diagram_highlights_the_current_state_from_the_state_file(cli: Cli) -> None:
    cli.entries_open()
    text = draw("--state-dir", str(cli.state_dir))
    assert "    class entries_open current" in text.splitlines()


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_diagram_renders_images_to_a_file(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"ladder.{fmt}"
    assert f"wrote {out}" in draw("--format", fmt, "-o", str(out), "--state-dir", str(tmp_path))
    data = out.read_bytes()
    assert b"<svg" in data if fmt == "svg" else data.startswith(b"\x89PNG")


def test_diagram_refuses_an_unknown_format(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["diagram", MACHINE, "--format", "gif"])
    assert result.exit_code == 2
