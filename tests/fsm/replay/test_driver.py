"""The replay driver ticks a bar's path point only when the tick may see something new; skipping the
others changes nothing: the journal is byte for byte the one of a replay that ticks every point."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsm.engine.machine import load_machine
from fsm.replay import synthetic
from fsm.replay.candles import CandleFile
from fsm.replay.driver import Replay, ReplayModel, Summary

MACHINE = "eth_robust_twap_15m"
START_MS = 1_735_689_600_000
BARS = 300  # a gap, a crash bar, cycles that fill, expire and exit


def replay(candles: Path, out: Path) -> tuple[Summary, bytes]:
    machine = load_machine(MACHINE, state_dir=out)
    out.mkdir()
    summary = Replay(machine, ReplayModel(), {"candles": str(candles)}).run(CandleFile(candles, "15m"))
    return summary, machine.state_path.with_suffix(".jsonl").read_bytes()


def test_skipped_points_change_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    candles = tmp_path / "bars.jsonl"
    synthetic.write(candles, 5, "15m", START_MS, BARS)
    skipping, journal = replay(candles, tmp_path / "skipping")
    monkeypatch.setattr(Replay, "_due", lambda *_: True)
    every, every_journal = replay(candles, tmp_path / "every")
    assert skipping.cycles > 0 and skipping.fills > 0 and skipping.anomalies == 0
    assert journal == every_journal
    assert skipping.ticks < every.ticks
