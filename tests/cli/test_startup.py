"""`okx-fsm --help` stays fast: importing the CLI loads no engine, client, graph or HTTP module."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_cli_loads_nothing_a_command_does_not_need() -> None:
    code = (
        "import sys, fsm.cli.app; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fsm', 'exchange', 'transitions', 'requests', 'yaml', 'pygraphviz', 'graphviz'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == [
        "fsm",
        "fsm.cli",
        "fsm.cli.app",
        "fsm.cli.command",
        "fsm.cli.commands_read",
        "fsm.cli.commands_service",
        "fsm.cli.commands_spec",
        "fsm.cli.commands_trade",
        "fsm.cli.help",
        "fsm.cli.options",
    ]


def test_help_lists_every_command_and_hides_the_seed_aliases() -> None:
    from typer.testing import CliRunner

    from fsm.cli.app import app

    out = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "200"}).stdout
    for command in (
        "demo",
        "sim",
        "check",
        "diagram",
        "status",
        "intent",
        "open-orders",
        "reconcile",
        "account",
        "order",
        "tick",
        "run",
        "submit-entries",
        "cancel",
        "close",
        "history",
        "verify-log",
    ):
        assert f" {command} " in out, command
    assert "okx-account" not in out and "eth-robust-twap" not in out
    for alias in (
        "okx-account",
        "okx-order",
        "eth-robust-twap-order-intent",
        "eth-robust-twap-open-orders",
        "eth-robust-twap-reconcile",
    ):
        assert CliRunner().invoke(app, [alias, "--help"]).exit_code == 0
