"""`--help` as click users know it, `-h`, `--version`, the exit codes and environment in the root's
help, errors as one line (and with --json one document) with their exit code, the seed's aliases."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from fsm.cli.app import app
from fsm.engine.venue import ENV_BASE_URL, ENV_KEY, ENV_PASSPHRASE, ENV_SECRET, ENV_WS_URL
from fsm.errors import ExitStatus
from tests.cli.conftest import CEILING_S, MACHINE, Cli

OKX_FSM = str(Path(sys.executable).with_name("okx-fsm"))  # the console script installed beside python
WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]  # hidden aliases included
PLACEHOLDER = re.compile(r"<[^<>\s]+>|\{[^{}\s]+\}")  # typer's <bool>, <str>, <path> and {machine}


def shown(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=WIDE)
    assert result.exit_code == 0, result.output
    return result.stdout


def one_line(text: str) -> str:
    return " ".join(text.split())


def error_document(result: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(result.stdout)
    assert set(doc) == {"error"} and set(doc["error"]) == {"type", "message", "exit_code", "exit_status"}
    return doc["error"]  # type: ignore[no-any-return]


def test_every_command_lists_hidden_aliases_too() -> None:
    assert {"tick", "run", "order", "okx-order", "eth-robust-twap-order-intent"} <= set(COMMANDS)


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_shows_no_type_or_brace_placeholder(command: str) -> None:
    text = shown(*([command] if command else []), "--help")
    assert PLACEHOLDER.findall(text) == []
    assert "<bool>" not in text and "{machine}" not in text


def test_options_and_arguments_read_as_click_shows_them() -> None:
    tick = shown("tick", "--help")
    assert "Usage: okx-fsm tick [OPTIONS] MACHINE" in tick
    assert re.search(r"--state-dir\s+PATH\s+where state files", tick)
    assert re.search(r"--base-url\s+TEXT\s+venue base URL", tick)
    assert re.search(r"--submit\s+arm the client", tick)  # a flag, no type after it
    assert re.search(r"--help\s+-h\s+Show this message", tick)
    assert "Usage: okx-fsm run [OPTIONS] MACHINES..." in shown("run", "--help")
    assert re.search(r"--interval\s+FLOAT", shown("run", "--help"))
    assert re.search(r"--output\s+-o\s+FILE", shown("diagram", "--help"))


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_dash_h_is_help(command: str) -> None:
    args = [command] if command else []
    assert shown(*args, "-h") == shown(*args, "--help")


def test_version_prints_the_installed_version() -> None:
    assert shown("--version") == f"okx-fsm {version('okx-fsm')}\n"
    result = subprocess.run([OKX_FSM, "--version"], capture_output=True, text=True, timeout=CEILING_S)
    assert (result.returncode, result.stdout) == (0, f"okx-fsm {version('okx-fsm')}\n")


def test_root_help_lists_every_exit_code() -> None:
    text = one_line(shown("--help"))
    assert "Exit codes:" in text
    for status in ExitStatus:
        assert one_line(f"{status.value} {status.meaning}") in text, status


def test_root_help_lists_the_environment_variables() -> None:
    text = one_line(shown("--help"))
    run_vars = [p.envvar for p in get_command(app).commands["run"].params if p.envvar]  # type: ignore[attr-defined]
    assert {"OKX_FSM_MACHINES", "OKX_FSM_SUBMIT", "OKX_FSM_STATE_DIR", "OKX_FSM_NOTIFY"} <= set(run_vars)
    for name in (ENV_KEY, ENV_SECRET, ENV_PASSPHRASE, ENV_BASE_URL, ENV_WS_URL, "NO_COLOR", *run_vars):
        assert name in text, name
    assert "OKX_FSM_MACHINES run MACHINES..." in text and "OKX_FSM_INTERVAL run --interval" in text


def test_a_bad_flag_is_one_line_and_exit_2_never_a_traceback() -> None:
    result = CliRunner().invoke(app, ["tick", MACHINE, "--bogus"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "error: No such option: --bogus (see okx-fsm tick --help)\n"
    for args in (["tick", MACHINE, "--bogus"], ["tick"], ["no-such-command"], ["--bogus"]):
        script = subprocess.run([OKX_FSM, *args], capture_output=True, text=True, timeout=CEILING_S)
        assert (script.returncode, script.stdout) == (2, ""), args
        assert len(script.stderr.splitlines()) == 1 and script.stderr.startswith("error: "), script.stderr


def test_a_bad_flag_with_json_is_also_a_json_document() -> None:
    result = CliRunner().invoke(app, ["status", MACHINE, "--json", "--interval", "3"])
    assert result.exit_code == 2
    assert error_document(result) == {
        "type": "NoSuchOption",
        "message": "No such option: --interval",
        "exit_code": 2,
        "exit_status": "USAGE",
    }
    assert result.stderr == "error: No such option: --interval (see okx-fsm status --help)\n"


def test_with_json_an_engine_error_is_a_json_document_with_its_exit_code(cli: Cli) -> None:
    cli.entries_open()
    with cli.journal_path.open("ab") as handle:
        handle.write(b'{"data":{"evidence":')
    result = cli.machine("status", "--json", expect=3)
    error = error_document(result)
    assert (error["type"], error["exit_code"], error["exit_status"]) == (
        "JournalTornTail",
        3,
        "STATE_REFUSED",
    )
    assert "ends with a torn line" in error["message"]
    assert result.stderr == f"error: {error['message']}\n"
    plain = cli.machine("status", expect=3)
    assert (plain.stdout, plain.stderr) == ("", result.stderr)  # without --json: the one line only


def test_with_json_usage_and_exchange_errors_are_json_documents(cli: Cli) -> None:
    del cli.env["OKX_API_SECRET"]
    missing = error_document(cli.machine("reconcile", "--json", expect=2))
    assert (missing["type"], missing["exit_status"]) == ("MissingCredentials", "USAGE")
    assert "OKX_API_SECRET" in missing["message"]
    cli.env["OKX_API_SECRET"] = "not-the-secret"
    refused = cli.run("account", "--json", expect=4)
    error = error_document(refused)
    assert (error["type"], error["exit_code"], error["exit_status"]) == ("OkxAuthError", 4, "EXCHANGE")
    assert refused.stderr.startswith("exchange error: OkxAuthError: ")
    args = ("order", "ETH-USDT-SWAP", "--side", "buy", "--sz", "x", "--px", "1", "--json")
    bad = error_document(cli.run(*args, expect=2))
    assert (bad["type"], bad["exit_code"]) == ("BadParameter", 2)


def test_an_unconfirmed_live_submit_is_an_error_document_too(cli: Cli) -> None:
    args = ["tick", MACHINE, "--state-dir", str(cli.state_dir), "--submit", "--live", "--json"]
    env = {**os.environ, **cli.env}
    result = subprocess.run(
        [OKX_FSM, *args], input="no\n", env=env, capture_output=True, text=True, timeout=CEILING_S
    )
    assert result.returncode == 2
    error = error_document(result)
    assert (error["type"], error["message"]) == ("NotConfirmed", "not confirmed: nothing was sent")
    assert result.stderr.endswith("error: not confirmed: nothing was sent\n")
    assert cli.posts() == 0


@pytest.mark.parametrize(
    ("alias", "command"),
    [
        ("eth-robust-twap-order-intent", "intent"),
        ("eth-robust-twap-open-orders", "open-orders"),
        ("eth-robust-twap-reconcile", "reconcile"),
    ],
)
def test_the_seed_aliases_default_their_machine(cli: Cli, alias: str, command: str) -> None:
    cli.signal()
    assert f"Usage: okx-fsm {alias} [OPTIONS] [MACHINE]" in shown(alias, "--help")
    by_alias = json.loads(cli.run(alias, "--state-dir", str(cli.state_dir), "--json").stdout)
    assert by_alias["machine"] == MACHINE
    if command != "reconcile":  # reconcile journals what it saw: a second run differs by design
        by_name = cli.json(command)
        assert {**by_alias, "now_ms": None} == {**by_name, "now_ms": None}  # exchange time moves on
    assert cli.posts() == 0


def test_the_sending_machine_commands_take_one_option_set() -> None:
    commands = get_command(app).commands  # type: ignore[attr-defined]

    def options(name: str) -> list[str]:
        return [opt for p in commands[name].params for opt in p.opts]

    shared = ["machine", "--submit", "--state-dir", "--base-url", "--live", "--yes", "--json", "--limits"]
    for name in ("submit-entries", "close", "flatten"):
        assert options(name) == shared, name
    assert options("cancel") == ["machine", "--rung", *shared[1:]]
