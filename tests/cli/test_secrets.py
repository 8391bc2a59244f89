"""Credentials never reach an output, the state file or the journal, on success or on failure."""

from __future__ import annotations

from tests.cli.conftest import PASSPHRASE, SECRET, SYMBOL, Cli


def assert_no_secret(cli: Cli) -> None:
    texts = [*cli.outputs]
    for path in cli.state_dir.glob("*"):
        texts.append(path.read_text(errors="replace"))
    for text in texts:
        assert SECRET not in text and PASSPHRASE not in text


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
    assert_no_secret(cli)


def test_refused_credentials_are_not_echoed_either(cli: Cli) -> None:
    cli.signal()
    cli.env["OKX_API_PASSPHRASE"] = PASSPHRASE + "x"
    cli.env["OKX_API_SECRET"] = SECRET + "y"
    # the intent reads the account's modes first: refused (auth) before anything is sent or journaled
    assert "OkxAuthError" in cli.machine("tick", "--submit", expect=4).output
    assert "OkxAuthError" in cli.run("account", expect=4).output
    assert_no_secret(cli)


def test_missing_credentials_name_the_variables_not_their_values(cli: Cli) -> None:
    del cli.env["OKX_API_SECRET"]
    out = cli.machine("reconcile", expect=2).output
    assert "OKX_API_SECRET" in out
    assert_no_secret(cli)
