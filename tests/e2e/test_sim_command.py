"""`okx-fsm sim`: one JSON line within 2 s, then serves until SIGTERM and exits cleanly."""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import sys
import time

import requests


def test_okx_fsm_sim_prints_its_line_within_two_seconds_and_stops_on_sigterm() -> None:
    cmd = [
        sys.executable,
        "-c",
        "from fsm.cli import main; main()",
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
        started = time.monotonic()
        assert sel.select(timeout=2.0), "no line within 2 s"
        line = proc.stdout.readline()
        assert time.monotonic() - started < 2.0
        info = json.loads(line)
        assert set(info) == {"base_url", "api_key", "secret_key", "passphrase"}
        assert info["base_url"].startswith("http://127.0.0.1:")
        answer = requests.get(info["base_url"] + "/api/v5/public/time", timeout=2).json()
        assert answer["code"] == "0"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
