"""The README's tour against `okx-fsm sim` runs as written: each `$ okx-fsm ...` and `$ curl ...` line,
in order, against a simulator started as the tour starts it, from a folder laid out like the
repository's root, printing what its excerpt shows.

An excerpt is the command's output with blank lines dropped; `...` stands for lines left out, and the
lines between two `...` follow each other in the output. Countdowns ("in 59m 59s") depend on the
milliseconds the commands take and are compared without their digits.
"""

from __future__ import annotations

import re
import shlex
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange.sim import Simulator
from fsm.cli.app import app

REPO = Path(__file__).resolve().parents[2]
TOUR = "## A tour against `okx-fsm sim`"
ELIDED = "..."
COUNTDOWN = re.compile(r"\bin (\d+h )?(\d+m )?\d+s\b")


@dataclass
class Step:
    command: str
    excerpt: list[str] = field(default_factory=list)


def tour_steps() -> list[Step]:
    """The tour's commands and excerpts, from the README's ```text blocks of that section."""
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index(TOUR) :]
    section = section[: section.index("\n## ", len(TOUR))]
    steps: list[Step] = []
    for block in re.findall(r"```text\n(.*?)```", section, re.S):
        assert block.startswith("$ "), f"a tour block starts with its command:\n{block}"
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append(Step(line[2:]))
            else:
                steps[-1].excerpt.append(line)
    return steps


def plain(text: str) -> list[str]:
    return [COUNTDOWN.sub("in <countdown>", line.rstrip()) for line in text.splitlines() if line.strip()]


def assert_shows(step: Step, output: str) -> None:
    """The excerpt's runs of lines, in order, each a run of the output's lines; it starts (ends) where
    the output does unless it starts (ends) with `...`."""
    printed = plain(output)
    shown = "\n".join(printed)
    runs: list[list[str]] = [[]]
    for line in step.excerpt:
        if line == ELIDED:
            runs.append([])
        else:
            runs[-1].extend(plain(line))
    at = 0
    for i, run in enumerate(runs):
        if not run:
            continue
        found = next((j for j in range(at, len(printed)) if printed[j : j + len(run)] == run), None)
        assert found is not None, (
            f"`{step.command}` printed no run of lines\n{chr(10).join(run)}\n---\n{shown}"
        )
        assert i > 0 or found == 0, f"`{step.command}` printed lines before the excerpt:\n{shown}"
        at = found + len(run)
    if runs[-1]:
        assert at == len(printed), f"`{step.command}` printed lines after the excerpt:\n{shown}"


def run_step(step: Step, sim: Simulator, env: dict[str, str | None]) -> str:
    argv = shlex.split(step.command.replace("$OKX_BASE_URL", sim.base_url))
    if argv[0] == "okx-fsm":
        result = CliRunner().invoke(app, argv[1:], env=env, catch_exceptions=False)
        assert result.exit_code == 0, f"{step.command} -> {result.exit_code}\n{result.output}"
        return result.stdout
    assert argv[:2] == ["curl", "-s"] and "-d" in argv, (
        f"the tour runs okx-fsm and curl -s -d: {step.command}"
    )
    url = next(arg for arg in argv if arg.startswith("http"))
    request = urllib.request.Request(url, data=argv[argv.index("-d") + 1].encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(answer.read().decode())


def test_the_readme_tour_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    steps = tour_steps()
    assert len(steps) > 20 and all(s.excerpt for s in steps)
    (tmp_path / "machines").symlink_to(REPO / "machines")  # the repository's root, as the tour runs
    monkeypatch.chdir(tmp_path)
    with Simulator(seed=7, clock="manual") as sim:  # `okx-fsm sim --clock manual --seed 7`
        env: dict[str, str | None] = {
            "OKX_BASE_URL": sim.base_url,
            "OKX_API_KEY": sim.api_key,
            "OKX_API_SECRET": sim.secret_key,
            "OKX_API_PASSPHRASE": sim.passphrase,
            "COLUMNS": None,  # piped: the plain output at its own width
        }
        for step in steps:
            assert_shows(step, run_step(step, sim, env))
