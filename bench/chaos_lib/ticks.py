"""One `okx-fsm tick --submit` in a subprocess, optionally SIGKILLed after a delay."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.chaos_lib.sim import MACHINE, REPO, okx_fsm_command

KILLED = -signal.SIGKILL
TIMED_OUT = -1000  # the tick outlived its hard timeout and was killed (not a chaos kill)


@dataclass(frozen=True)
class TickOutcome:
    """How one tick process ended: its exit code (negative: killed), whether chaos killed it, and when."""

    code: int
    killed: bool
    seconds: float
    stderr_tail: str


def run_cli(
    args: list[str], env: Mapping[str, str], *, kill_after_s: float | None = None, timeout_s: float = 120.0
) -> TickOutcome:
    """Run `okx-fsm ARGS`; with `kill_after_s`, SIGKILL it if it is still running then.

    Stdout is discarded: the harness never judges from what the engine prints about itself.
    """
    started = time.monotonic()
    proc = subprocess.Popen(
        [*okx_fsm_command(), *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = False
    try:
        _, err = proc.communicate(timeout=kill_after_s if kill_after_s is not None else timeout_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        killed = kill_after_s is not None
        _, err = proc.communicate(timeout=30)
    code = proc.returncode
    if code == KILLED and not killed:
        code = TIMED_OUT
    tail = " | ".join((err or "").strip().splitlines()[-3:])
    return TickOutcome(code=code, killed=killed, seconds=time.monotonic() - started, stderr_tail=tail)


def tick_args(state_dir: Path, machine: str = MACHINE) -> list[str]:
    return ["tick", machine, "--submit", "--state-dir", str(state_dir), "--json"]


def verify_log_args(state_dir: Path, machine: str = MACHINE) -> list[str]:
    return ["verify-log", machine, "--state-dir", str(state_dir)]
