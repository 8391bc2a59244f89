"""`okx-fsm sim`: one JSON line, then serves until SIGTERM and exits cleanly.

A bad flag or a port in use: one line on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import json
import selectors
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from fsm.cli.app import app
from tests.exchange.sim.test_cli import BAD_FLAGS, CEILING_S

pytestmark = pytest.mark.e2e

OKX_FSM = str(Path(sys.executable).with_name("okx-fsm"))  # the console script installed beside python


def test_okx_fsm_sim_prints_its_line_serves_and_stops_on_sigterm() -> None:
    cmd = [
        sys.executable,
        "-c",
        "from fsm.cli.app import main; main()",
        "sim",
        "--port",
        "0",
        "--clock",
        "manual",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        assert sel.select(timeout=CEILING_S), f"no line within {CEILING_S:.0f} s"
        info = json.loads(proc.stdout.readline())
        assert set(info) == {"base_url", "api_key", "secret_key", "passphrase", "ws_url", "business_ws_url"}
        assert info["base_url"].startswith("http://127.0.0.1:")
        answer = requests.get(info["base_url"] + "/api/v5/public/time", timeout=CEILING_S).json()
        assert answer["code"] == "0"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=CEILING_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(("args", "named"), BAD_FLAGS, ids=[" ".join(args) for args, _ in BAD_FLAGS])
def test_a_bad_flag_is_one_stderr_line_and_exit_2(args: list[str], named: str) -> None:
    result = CliRunner().invoke(app, ["sim", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert named in result.stderr


def test_the_console_script_refuses_a_bad_clock_without_a_traceback() -> None:
    result = subprocess.run(
        [OKX_FSM, "sim", "--clock", "bogus"], capture_output=True, text=True, timeout=CEILING_S
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == ["error: --clock must be manual or realtime, not 'bogus'"]


def test_the_console_script_refuses_a_port_in_use_without_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [OKX_FSM, "sim", "--port", str(port)], capture_output=True, text=True, timeout=CEILING_S
        )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]
