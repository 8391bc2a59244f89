"""`python -m exchange.sim`: one JSON line on stdout within 2 s, then serve until SIGTERM, exit 0."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[3]


def _start(env_overrides: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], dict[str, str], float]:
    """Start the module; return the process, its JSON line and how long the line took."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange.sim", "--port", "0", *args],
        cwd=ROOT,
        env={**os.environ, **env_overrides},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    started = time.monotonic()
    ready, _, _ = select.select([proc.stdout], [], [], 2.0)
    if not ready:
        proc.kill()
        proc.wait()
        raise AssertionError("no JSON line within 2 s")
    line = json.loads(proc.stdout.readline())
    return proc, line, time.monotonic() - started


def _stop(proc: subprocess.Popen[str], sig: signal.Signals) -> int:
    try:
        proc.send_signal(sig)
        return proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_module_prints_its_json_line_serves_and_stops_cleanly_on_sigterm() -> None:
    no_env = {"OKX_API_KEY": "", "OKX_API_SECRET": "", "OKX_API_PASSPHRASE": ""}
    proc, line, took = _start(no_env, "--clock", "manual", "--seed", "3")
    try:
        assert took < 2.0
        assert set(line) == {"base_url", "api_key", "secret_key", "passphrase"}
        assert all(line.values())
        assert line["base_url"].startswith("http://127.0.0.1:")
        assert requests.get(line["base_url"] + "/api/v5/public/time", timeout=2).json()["code"] == "0"
    finally:
        assert _stop(proc, signal.SIGTERM) == 0
    assert proc.stdout is not None
    assert proc.stdout.read() == ""  # exactly one line


def test_credentials_come_from_the_client_environment_variables() -> None:
    proc, line, _ = _start({"OKX_API_KEY": "k-1", "OKX_API_SECRET": "s-1", "OKX_API_PASSPHRASE": "p-1"})
    assert _stop(proc, signal.SIGINT) == 0
    assert (line["api_key"], line["secret_key"], line["passphrase"]) == ("k-1", "s-1", "p-1")
