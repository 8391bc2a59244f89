"""`python -m exchange.sim`: one JSON line on stdout, then serve until SIGTERM, exit 0.

A bad flag or a port in use: one line on stderr and exit 2, before serving.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]


CEILING_S = 60.0  # how long a start or a stop may take on a busy machine; never a budget


def _start(env_overrides: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start the module; return the process and its JSON line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange.sim", "--port", "0", *args],
        cwd=ROOT,
        env={**os.environ, **env_overrides},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], CEILING_S)
    if not ready:
        proc.kill()
        proc.wait()
        raise AssertionError(f"no JSON line within {CEILING_S:.0f} s")
    line = json.loads(proc.stdout.readline())
    return proc, line


def _stop(proc: subprocess.Popen[str], sig: signal.Signals) -> int:
    try:
        proc.send_signal(sig)
        return proc.wait(timeout=CEILING_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_module_prints_its_json_line_serves_and_stops_cleanly_on_sigterm() -> None:
    no_env = {"OKX_API_KEY": "", "OKX_API_SECRET": "", "OKX_API_PASSPHRASE": ""}
    proc, line = _start(no_env, "--clock", "manual", "--seed", "3")
    try:
        assert set(line) == {"base_url", "api_key", "secret_key", "passphrase", "ws_url", "business_ws_url"}
        assert all(line.values())
        assert line["base_url"].startswith("http://127.0.0.1:")
        assert requests.get(line["base_url"] + "/api/v5/public/time", timeout=CEILING_S).json()["code"] == "0"
    finally:
        assert _stop(proc, signal.SIGTERM) == 0
    assert proc.stdout is not None
    assert proc.stdout.read() == ""  # exactly one line


def test_credentials_come_from_the_client_environment_variables() -> None:
    proc, line = _start({"OKX_API_KEY": "k-1", "OKX_API_SECRET": "s-1", "OKX_API_PASSPHRASE": "p-1"})
    assert _stop(proc, signal.SIGINT) == 0
    assert (line["api_key"], line["secret_key"], line["passphrase"]) == ("k-1", "s-1", "p-1")


BAD_FLAGS = [
    (["--clock", "bogus"], "--clock"),
    (["--start-px", "abc"], "--start-px"),
    (["--start-px", "3000.005"], "--start-px"),
    (["--speed", "-1"], "--speed"),
    (["--speed", "0"], "--speed"),
    (["--seed", "abc"], "--seed"),
    (["--port", "abc"], "--port"),
    (["--host", "0.0.0.0"], "--allow-remote"),
]


@pytest.mark.parametrize(("args", "named"), BAD_FLAGS, ids=[" ".join(args) for args, _ in BAD_FLAGS])
def test_a_bad_flag_is_one_stderr_line_and_exit_2(args: list[str], named: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "exchange.sim", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CEILING_S,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert named in result.stderr


def test_a_port_in_use_is_one_stderr_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "exchange.sim", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=CEILING_S,
        )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"error: cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_allow_remote_lets_it_listen_beyond_loopback() -> None:
    proc, line = _start({}, "--host", "0.0.0.0", "--allow-remote", "--clock", "manual")
    try:
        port = line["base_url"].rsplit(":", 1)[1]
        assert line["base_url"] == f"http://0.0.0.0:{port}"
        local = f"http://127.0.0.1:{port}"
        assert requests.get(local + "/api/v5/public/time", timeout=CEILING_S).json()["code"] == "0"
        assert requests.get(local + "/sim/state", timeout=CEILING_S).status_code == 200
    finally:
        assert _stop(proc, signal.SIGTERM) == 0
