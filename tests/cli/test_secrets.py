"""Credentials never reach an output, a log, the heartbeat, a notification, the state file or the
journal, on success or on failure: a malformed one is refused where it is read, and every error text
shown passes through the one redactor."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from typing import Any, NoReturn

import pytest

from exchange import OkxAuthError
from fsm.cli.app import main
from fsm.service.runlog import LOG_FILE
from tests.cli.conftest import API_KEY, MACHINE, PASSPHRASE, SECRET, SYMBOL, Cli
from tests.fsm.test_runner import Hook, webhook  # noqa: F401 (webhook: a fixture, used by name)

CREDENTIALS = {"OKX_API_KEY": API_KEY, "OKX_API_SECRET": SECRET, "OKX_API_PASSPHRASE": PASSPHRASE}


def assert_no_secret(cli: Cli, *more: str) -> None:
    """No credential in any output, in `more`, or in any file under the state directory."""
    texts = [*cli.outputs, *more]
    texts += [p.read_text(errors="replace") for p in cli.state_dir.rglob("*") if p.is_file()]
    for text in texts:
        for canary in CREDENTIALS.values():
            assert canary not in text, text


def run_briefly(cli: Cli, *args: str, expect: int = 0) -> Any:
    return cli.machine("run", "--ticks", "2", "--interval", "0.01", *args, expect=expect)


def test_no_command_echoes_the_credentials(cli: Cli) -> None:
    cli.filled()
    for command in ("status", "intent", "open-orders", "reconcile", "history", "verify-log"):
        cli.machine(command)
        cli.machine(command, "--json")
    cli.machine("status", "--observe")
    cli.run("account")
    cli.run("account", "--json")
    cli.machine("close", "--submit")
    cli.run("order", SYMBOL, "--side", "buy", "--sz", "1", "--px", "2000", "--pos-side", "long", "--submit")
    cli.tick(submit=True)
    run_briefly(cli, "--submit")
    assert (cli.state_dir / LOG_FILE).exists()
    assert_no_secret(cli)


def test_refused_credentials_are_not_echoed_either(cli: Cli) -> None:
    cli.signal()
    cli.env["OKX_API_PASSPHRASE"] = PASSPHRASE + "x"
    cli.env["OKX_API_SECRET"] = SECRET + "y"
    # the intent reads the account's modes first: refused (auth) before anything is sent or journaled
    assert "OkxAuthError" in cli.machine("tick", "--submit", expect=4).output
    assert "OkxAuthError" in cli.run("account", expect=4).output
    assert "parked" in run_briefly(cli, expect=4).output
    assert_no_secret(cli)


def test_missing_credentials_name_the_variables_not_their_values(cli: Cli) -> None:
    del cli.env["OKX_API_SECRET"]
    out = cli.machine("reconcile", expect=2).output
    assert "OKX_API_SECRET" in out
    assert_no_secret(cli)


# A credential as a paste or a file read leaves it.
MALFORMED = {
    "trailing newline": "{}\n",
    "header injection": "{}\r\nX-Evil: 1",
    "trailing carriage return": "{}\r",
    "leading space": " {}",
    "trailing space": "{} ",
    "tab": "{}\t",
    "smart quote": "{}\u2019",
}


@pytest.mark.parametrize("form", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_credential_is_refused_naming_the_variable_before_any_request(
    cli: Cli, form: str
) -> None:
    state = ["--state-dir", str(cli.state_dir)]
    for variable, canary in CREDENTIALS.items():
        cli.env[variable] = form.format(canary)
        for args in (
            ["account"],
            ["account", "--json"],
            ["tick", MACHINE, "--submit", *state],
            ["run", MACHINE, *state],
        ):
            [line] = cli.run(*args, expect=2).stderr.splitlines()
            assert line.startswith("error: malformed ") and variable in line, line
            assert not any(other in line for other in CREDENTIALS if other != variable), line
        cli.env[variable] = canary
    assert cli.sim.stats()["requests"] == {}
    assert not (cli.state_dir / LOG_FILE).exists()
    assert_no_secret(cli)


def test_the_process_refuses_a_passphrase_with_a_newline_in_one_line(cli: Cli) -> None:
    """The issue's own case, as the operator meets it: the real process, its exit status and stderr."""
    env = {**os.environ, **cli.env, "OKX_API_PASSPHRASE": PASSPHRASE + "\n"}
    done = subprocess.run(
        [sys.executable, "-c", "from fsm.cli.app import main; main()", "account"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: malformed OKX_API_PASSPHRASE") and done.stderr.count("\n") == 1
    assert_no_secret(cli, done.stderr)


def leak(*_: object, **__: object) -> NoReturn:
    """An error whose text quotes every credential, as a layer below might: raw, repr'd and in JSON."""
    quoted = ", ".join(f"{v} {v!r} {json.dumps(v)}" for v in CREDENTIALS.values())
    raise OkxAuthError("50105", f"refused: {quoted}", 401)


def test_an_error_quoting_the_credentials_is_masked_wherever_it_is_shown(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    webhook: str,  # noqa: F811 (the fixture imported above)
) -> None:
    monkeypatch.setattr("fsm.engine.tick.run_tick", leak)
    monkeypatch.setattr("fsm.service.runner.run_tick", leak)
    shown = cli.machine("tick", "--json", expect=4)
    assert json.loads(shown.stdout)["error"]["type"] == "OkxAuthError"
    assert shown.stderr.startswith("exchange error: OkxAuthError: OKX code 50105 (HTTP 401): refused: <")
    ran = run_briefly(cli, "--notify", webhook, expect=4)  # parked: a refused key (the venue: 4)
    assert "parked" in ran.stderr and "<redacted>" in ran.stderr
    heartbeat = json.loads((cli.state_dir / f"{MACHINE}_live.heartbeat.json").read_text())
    assert "<redacted>" in heartbeat["parked"]
    assert "<redacted>" in (cli.state_dir / LOG_FILE).read_text()
    [parked] = [event for event in Hook.received if event["event"] == "parked"]
    assert "<redacted>" in parked["detail"]
    assert_no_secret(cli, json.dumps(Hook.received))


def test_a_bug_quoting_the_credentials_shows_its_traceback_masked(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def bug(*_: object, **__: object) -> NoReturn:
        raise RuntimeError(f"a bug that quotes {API_KEY!r}, {SECRET} and {PASSPHRASE}")

    monkeypatch.setattr("fsm.engine.tick.run_tick", bug)
    for name, value in cli.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["okx-fsm", "tick", MACHINE, "--state-dir", str(cli.state_dir)])
    with pytest.raises(SystemExit) as exit:
        main()
    err = capsys.readouterr().err
    assert exit.value.code == 1
    assert "Traceback" in err and "RuntimeError: a bug that quotes '<redacted>', <redacted> and" in err
    assert_no_secret(cli, err)


def test_the_run_log_is_owner_only_like_the_state_files(cli: Cli) -> None:
    log = cli.state_dir / LOG_FILE
    run_briefly(cli)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.state_path.stat().st_mode) == 0o600
    lines = log.read_text().splitlines()
    log.chmod(0o644)  # as an earlier release left it
    run_briefly(cli)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert log.read_text().splitlines()[: len(lines)] == lines  # appended to, nothing lost
