"""`okx-fsm --help` stays fast: importing the CLI loads no engine, client, graph or HTTP module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


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
        "fsm.cli.commands_candles",
        "fsm.cli.commands_read",
        "fsm.cli.commands_replay",
        "fsm.cli.commands_report",
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


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["check", "eth_robust_twap_15m"],
        ["status", "eth_robust_twap_15m"],
        ["history", "eth_robust_twap_15m"],
    ],
    ids=["help", "check", "status", "history"],
)
def test_commands_that_read_local_files_load_no_client_or_simulator(argv: list[str], tmp_path: Path) -> None:
    """Nothing a local read does not use: no HTTP client, no simulator, no test library."""
    state = [] if argv == ["--help"] or argv[0] == "check" else ["--state-dir", str(tmp_path)]
    code = (
        "import sys\n"
        f"sys.argv = ['okx-fsm', *{argv + state!r}]\n"
        "from fsm.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "heavy = [m for m in ('requests', 'urllib3', 'exchange.client', 'exchange.sim', 'hypothesis')"
        " if m in sys.modules]\n"
        "print('loaded:', *heavy, file=sys.stderr)"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stderr.strip().splitlines()[-1] == "loaded:"
