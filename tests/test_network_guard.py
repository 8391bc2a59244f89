import socket

import pytest


def test_connect_beyond_loopback_is_refused_by_the_suite_guard():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(RuntimeError, match="beyond loopback"):
            sock.connect(("192.0.2.1", 443))
    finally:
        sock.close()


def test_cli_help_runs():
    from typer.testing import CliRunner

    from fsm.cli.app import app

    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "okx-fsm" in result.output or "Usage" in result.output
