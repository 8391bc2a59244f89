"""Bad input to the CLI: one line on stderr, the README's exit code, never a traceback, nothing written
and nothing asked of the venue. A --state-dir in the way, a malformed venue URL, a number out of range,
an -o in no folder, an order the venue would refuse; a bounded run that never ticked well; a closed
stdout pipe (not an error at all)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from fsm.cli.app import app
from fsm.engine.machine import load_machine
from fsm.errors import ExitStatus
from fsm.persist.store import StateStore
from tests.cli.conftest import MACHINE, SYMBOL, Cli
from tests.cli.test_tick_cli import _second_machine

OKX_FSM = str(Path(sys.executable).with_name("okx-fsm"))  # the console script installed beside python
UNCREATABLE = "/proc/self/x"  # no process, root included, can make a directory there
BAD_URLS = ["http://127.0.0.1:99999", "http://127.0.0.1:abc", "http://[::1", "not-a-url"]
ORDER = [SYMBOL, "--side", "buy", "--sz", "1", "--px", "2900"]


def one_error_line(result: Any, exit_code: ExitStatus) -> str:
    """The single `error: ...` line a refused command leaves on stderr (a traceback has more)."""
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    line: str = lines[0]
    return line


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under `root` with its bytes (None for a directory)."""
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in sorted(root.rglob("*"))}


@pytest.fixture
def in_the_way(tmp_path: Path) -> Iterator[Path]:
    """A regular file where a folder is wanted; its bytes are checked to be untouched afterwards."""
    path = tmp_path / "a-file"
    path.write_bytes(b"not a folder: keep me\n")
    yield path
    assert path.read_bytes() == b"not a folder: keep me\n"


# --- --state-dir --------------------------------------------------------------------------------

STATE_COMMANDS = [
    ["tick", MACHINE],
    ["tick", MACHINE, "--submit"],
    ["run", MACHINE, "--ticks", "1"],
    ["pause", MACHINE],
    ["flatten", MACHINE, "--submit"],
    ["reconcile", MACHINE],
    ["cancel", MACHINE, "--submit"],
    ["status", MACHINE],
    ["verify-log", MACHINE],
    ["demo"],
]


@pytest.mark.parametrize("command", STATE_COMMANDS, ids=lambda c: " ".join(c[:1] + c[2:]))
@pytest.mark.parametrize("under", [False, True], ids=["file", "under-a-file"])
def test_a_state_dir_that_is_a_file_is_a_usage_error(
    cli: Cli, in_the_way: Path, command: list[str], under: bool
) -> None:
    state_dir = in_the_way / "state" if under else in_the_way
    result = cli.run(*command, "--state-dir", str(state_dir), expect=ExitStatus.USAGE)
    line = one_error_line(result, ExitStatus.USAGE)
    assert "'--state-dir'" in line and f"{in_the_way} is not a directory" in line
    assert tree(in_the_way.parent) == {in_the_way.name: in_the_way.read_bytes()}
    assert cli.sim.stats()["total"] == 0


@pytest.mark.parametrize(
    "command", [c for c in STATE_COMMANDS if c[0] not in ("status", "verify-log")], ids=lambda c: c[0]
)
def test_a_state_dir_that_cannot_be_created_is_one_line(cli: Cli, command: list[str]) -> None:
    result = cli.run(*command, "--state-dir", UNCREATABLE, expect=ExitStatus.STATE_REFUSED)
    line = one_error_line(result, ExitStatus.STATE_REFUSED)
    assert line.startswith(f"error: cannot use {UNCREATABLE}: ")
    assert not Path(UNCREATABLE).exists()
    assert cli.sim.stats()["total"] == 0


@pytest.mark.parametrize(
    ("command", "blocked"),
    [
        (["tick", MACHINE], f"{MACHINE}_live.json.lock"),
        (["run", MACHINE, "--ticks", "1"], "okx-fsm-run.log.jsonl"),
    ],
    ids=["tick-lock", "run-log"],
)
def test_a_file_the_state_needs_that_cannot_be_opened_is_one_line(
    cli: Cli, command: list[str], blocked: str
) -> None:
    (cli.state_dir / blocked).mkdir(parents=True)  # a folder where the lock or the run log must go
    before = tree(cli.state_dir)
    result = cli.machine(*command[:1], *command[2:], expect=ExitStatus.STATE_REFUSED)
    line = one_error_line(result, ExitStatus.STATE_REFUSED)
    assert line == f"error: cannot use {cli.state_dir / blocked}: Is a directory"
    assert tree(cli.state_dir) == before
    assert cli.sim.stats()["total"] == 0


# --- venue URLs ---------------------------------------------------------------------------------


COMMANDS = get_command(app).commands  # type: ignore[attr-defined]  # hidden aliases included
URL_COMMANDS = sorted(n for n, c in COMMANDS.items() if any("--base-url" in p.opts for p in c.params))


def _args_of(name: str, state_dir: Path) -> list[str]:
    """A command line that would reach the venue if its URL were good."""
    if name in ("order", "okx-order"):
        args = [name, *ORDER, "--submit"]
    elif name in ("account", "okx-account") or name.startswith("eth-robust-twap-"):
        args = [name]
    else:
        args = [name, MACHINE, *(["--ticks", "1"] if name == "run" else ["--observe"] * (name == "check"))]
    if any("--state-dir" in p.opts for p in COMMANDS[name].params):
        args += ["--state-dir", str(state_dir)]
    return args


def test_every_command_that_takes_a_venue_url_is_checked() -> None:
    assert {"account", "check", "status", "tick", "run", "order", "watch", "flatten"} <= set(URL_COMMANDS)


@pytest.mark.parametrize("name", URL_COMMANDS)
@pytest.mark.parametrize("source", ["option", "environment"])
def test_a_malformed_venue_url_is_a_usage_error_before_any_request(cli: Cli, name: str, source: str) -> None:
    url = "http://127.0.0.1:99999"
    args = _args_of(name, cli.state_dir)
    if source == "option":
        args += ["--base-url", url]
    else:
        cli.env["OKX_BASE_URL"] = url
    line = one_error_line(cli.run(*args, expect=ExitStatus.USAGE), ExitStatus.USAGE)
    assert "a bad URL: Port out of range" in line
    assert ("'--base-url'" if source == "option" else "OKX_BASE_URL") in line
    assert cli.sim.stats()["total"] == 0
    assert not cli.state_dir.exists()


@pytest.mark.parametrize("url", BAD_URLS)
def test_each_malformed_url_says_what_is_wrong_and_never_echoes_it(cli: Cli, url: str) -> None:
    run = ["run", MACHINE, "--ticks", "1", "--state-dir", str(cli.state_dir)]
    for args in (
        ["account", "--base-url", url],
        [*run, "--push", "--ws-url", url.replace("http", "ws")],
        [*run, "--notify", url],  # the webhook
    ):
        line = one_error_line(cli.run(*args, expect=ExitStatus.USAGE), ExitStatus.USAGE)
        assert "a bad URL: " in line and url not in line
    cli.env["OKX_WS_URL"] = "https://www.okx.com"
    line = one_error_line(cli.run(*run, "--push", expect=ExitStatus.USAGE), ExitStatus.USAGE)
    assert "OKX_WS_URL" in line and "the scheme must be wss or ws" in line
    assert cli.sim.stats()["total"] == 0
    assert not cli.state_dir.exists()


def test_a_password_in_a_url_is_refused_and_not_shown(cli: Cli) -> None:
    result = cli.run("account", "--base-url", "https://me:hunter2@www.okx.com", expect=ExitStatus.USAGE)
    line = one_error_line(result, ExitStatus.USAGE)
    assert "a user or password in it" in line and "hunter2" not in result.output


# --- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["run", MACHINE, "--interval", "0"], "0 is not in the range 0<x<=86400"),
        (["run", MACHINE, "--interval", "-5"], "-5 is not in the range 0<x<=86400"),
        (["run", MACHINE, "--interval", "nan"], "nan is not in the range 0<x<=86400"),
        (["run", MACHINE, "--interval", "inf"], "inf is not in the range 0<x<=86400"),
        (["run", MACHINE, "--ticks", "-3"], "greater than or equal to 0"),
        (["run", MACHINE, "--push-reconcile", "-1"], "-1 is not in the range 0<x<=86400"),
        (["run", MACHINE, "--push-reconcile", "0"], "0 is not in the range 0<x<=86400"),
        (["run", MACHINE, "--time-sync", "nan"], "nan is not in the range 0<=x<=86400"),
        (["run", MACHINE, "--full-reconcile-every", "0"], "greater than or equal to 1"),
        (["watch", MACHINE, "--interval", "-1"], "-1 is not in the range 0<x<=86400"),
        (["watch", MACHINE, "--interval", "0"], "0 is not in the range 0<x<=86400"),
        (["watch", MACHINE, "--count", "-1"], "greater than or equal to 0"),
        (["cancel", MACHINE, "--rung", "0", "--submit"], "greater than or equal to 1"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_a_number_out_of_range_is_a_usage_error_naming_the_range(
    cli: Cli, args: list[str], named: str
) -> None:
    option = next(a for a in args if a.startswith("--"))
    bounded = ["--ticks", "1"] if args[0] == "run" and option != "--ticks" else []  # accepted: it ends
    result = cli.run(*args, *bounded, "--state-dir", str(cli.state_dir), expect=ExitStatus.USAGE)
    line = one_error_line(result, ExitStatus.USAGE)
    assert f"'{option}'" in line and named in line
    assert not cli.state_dir.exists()
    assert cli.sim.stats()["total"] == 0


def test_run_options_from_the_environment_are_checked_the_same(cli: Cli) -> None:
    cli.env.update(OKX_FSM_INTERVAL="nan", OKX_FSM_TICKS="1")
    result = cli.run("run", MACHINE, "--state-dir", str(cli.state_dir), expect=ExitStatus.USAGE)
    assert "nan is not in the range 0<x<=86400" in one_error_line(result, ExitStatus.USAGE)
    assert not cli.state_dir.exists()


# --- run's verdict ------------------------------------------------------------------------------


def test_a_bounded_run_whose_every_tick_failed_exits_with_the_reason(cli: Cli) -> None:
    cli.sim.set_faults([{"endpoint": "*", "kind": "http_503", "probability": 1}])
    result = cli.machine("run", "--ticks", "2", "--interval", "0.1", expect=ExitStatus.EXCHANGE)
    assert "stopped after 2 tick(s)" in result.stdout
    line = result.stderr.splitlines()[-1]
    assert line.startswith(f"error: every machine failed or is parked: {MACHINE}: ") and "50001" in line
    assert "Traceback" not in result.stderr
    stats = cli.sim.stats()
    assert stats["faults"]["http_503"] >= 2 and not any(k.startswith("POST") for k in stats["requests"])
    cli.sim.set_faults([])
    cli.machine("run", "--ticks", "1", "--interval", "0.1")  # the venue is back: a tick went well


def test_a_run_on_a_state_another_runner_holds_exits_lock_held(cli: Cli, tmp_path: Path) -> None:
    twin = str(_second_machine(tmp_path))
    loaded = load_machine(MACHINE, state_dir=cli.state_dir)
    with StateStore(cli.state_path, loaded.identity) as runner:
        runner.open()
        for bounded in (["--ticks", "1"], []):  # unbounded too: nothing is left to run
            result = cli.machine("run", *bounded, expect=ExitStatus.LOCK_HELD)
            assert "stopped after 0 tick(s)" in result.stdout
            line = result.stderr.splitlines()[-1]
            assert line.startswith(f"error: every machine failed or is parked: {MACHINE}: StateLocked: ")
        cli.machine("tick", expect=ExitStatus.LOCK_HELD)  # as tick says
        both = cli.run("run", MACHINE, twin, "--ticks", "1", "--state-dir", str(cli.state_dir))
        assert "stopped after 1 tick(s)" in both.stdout  # the twin ticked: the run was not for nothing
    assert cli.posts() == 0


# --- diagram -o, order --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "svg", "dot", "mermaid"])
def test_diagram_to_a_file_in_no_folder_is_a_usage_error(cli: Cli, tmp_path: Path, fmt: str) -> None:
    for out, why in (
        (
            tmp_path / "nonexistent" / "dir" / f"x.{fmt}",
            f"{tmp_path / 'nonexistent' / 'dir'} is not an existing",
        ),
        (tmp_path, f"{tmp_path} is a directory"),
    ):
        result = cli.run("diagram", MACHINE, "--format", fmt, "-o", str(out), expect=ExitStatus.USAGE)
        assert why in one_error_line(result, ExitStatus.USAGE)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("option", "named"),
    [
        (["--pos-side", "sideways"], "posSide must be long, short or net, got 'sideways'"),
        (
            ["--pos-side", "long", "--td-mode", "cash"],
            "'cash' is not one of isolated, cross (a swap's margin",
        ),
    ],
)
def test_the_order_dry_run_refuses_what_the_send_refuses(cli: Cli, option: list[str], named: str) -> None:
    for submit in ([], ["--submit"]):
        result = cli.run("order", *ORDER, *option, *submit, expect=ExitStatus.USAGE)
        assert named in one_error_line(result, ExitStatus.USAGE)
        assert result.stdout == ""
    assert cli.sim.stats()["total"] == 0


# --- a closed pipe ------------------------------------------------------------------------------


def closed_pipe_run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The console script with stdout a pipe nobody reads any more, as `okx-fsm ... | head -1` leaves it."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # closed before the command starts: its first write to stdout fails
    try:
        return subprocess.run(
            [OKX_FSM, *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**os.environ, **env},
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)


def test_a_closed_pipe_is_not_an_error(cli: Cli) -> None:
    cli.signal()
    cli.tick()
    state = ["--state-dir", str(cli.state_dir)]
    for args in (
        ["--help"],
        ["--version"],
        ["tick", "--help"],
        ["status", MACHINE, *state],
        ["status", MACHINE, *state, "--json"],
        ["history", MACHINE, *state],
        ["diagram", MACHINE],
        ["intent", MACHINE, *state],
    ):
        ran = closed_pipe_run(args, cli.env)
        assert (ran.returncode, ran.stderr) == (0, ""), args
    refused = closed_pipe_run(["tick", MACHINE, "--bogus", "--json"], cli.env)  # an error stays one
    assert refused.returncode == ExitStatus.USAGE
    assert refused.stderr == "error: No such option: --bogus (see okx-fsm tick --help)\n"
