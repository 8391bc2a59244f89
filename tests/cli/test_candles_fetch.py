"""`okx-fsm candles fetch` against the simulator: paged downloads in both formats, 429 waited out and
logged, a killed download resumed to the same file, bad ranges and bad files refused (exit 2, one line),
judged by the simulator's rows and request counts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange import OkxClient
from exchange.sim import Simulator
from fsm.cli.app import app

SYMBOL, M15 = "ETH-USDT-SWAP", 900_000
HISTORY = "GET /api/v5/market/history-candles"
START_MS = 1_767_571_230_000  # the simulator's clock: 30 s into a 15m bar
CEILING_S = 60.0


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=11, start_ms=START_MS) as simulator:
        yield simulator


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def env(sim: Simulator) -> dict[str, str]:
    return {"OKX_BASE_URL": sim.base_url, "NO_COLOR": "1"}


def fetch(sim: Simulator, *args: str, expect: int = 0) -> tuple[str, str]:
    command = ["candles", "fetch", SYMBOL, *args]
    result = CliRunner().invoke(app, command, env=env(sim), catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result.stdout, result.stderr


def sim_rows(sim: Simulator, since: int, until: int) -> list[list[str]]:
    """The simulator's bars of [since, until), oldest first, asked backwards page by page."""
    client, after = OkxClient("", "", "", base_url=sim.base_url), until
    rows: list[list[str]] = []
    while after > since:
        page = client.get_history_candles(SYMBOL, "15m", after=after)
        rows[:0] = [list(c.raw) for c in page if c.ts >= since]
        after = page[0].ts
    return rows


def bars_back(n: int) -> int:
    return START_MS - START_MS % M15 - n * M15


def test_a_download_pages_through_history_into_json_lines(sim: Simulator, tmp_path: Path) -> None:
    since, until = bars_back(730), bars_back(0)  # a week and a bit, months before the clock's start
    since, until = since - 90 * 96 * M15, until - 90 * 96 * M15
    out = tmp_path / "eth.jsonl"
    sim.reset()
    stdout, _ = fetch(sim, "15m", "--since", iso(since), "--until", iso(until), "-o", str(out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == sim_rows(sim, since, until) and len(rows) == 730
    assert sim.stats()["requests"][HISTORY] == 8 + 8  # the download's 8 pages, then sim_rows' 8
    assert "730 bars added, 730 in all" in stdout


def test_csv_with_a_header_and_no_until_ends_at_the_last_closed_bar(sim: Simulator, tmp_path: Path) -> None:
    out = tmp_path / "eth.csv"
    fetch(sim, "15m", "--since", iso(bars_back(120)), "-o", str(out))
    lines = out.read_text().splitlines()
    assert lines[0] == "ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm"
    assert [line.split(",") for line in lines[1:]] == sim_rows(sim, bars_back(120), bars_back(0))
    assert {line.split(",")[8] for line in lines[1:]} == {"1"}


def test_a_429_is_waited_out_logged_and_the_file_is_whole(sim: Simulator, tmp_path: Path) -> None:
    out = tmp_path / "eth.jsonl"
    sim.set_faults([{"endpoint": HISTORY, "kind": "burst_429", "count": 2}])
    since, until = bars_back(150), bars_back(0)
    _, stderr = fetch(sim, "15m", "--since", iso(since), "--until", iso(until), "-o", str(out))
    waits = [line for line in stderr.splitlines() if "OkxRateLimited" in line]
    assert len(waits) == 2 and "waiting 0.25 s" in waits[0] and "waiting 0.5 s" in waits[1], stderr
    assert sim.stats()["faults"] == {"burst_429": 2}
    assert [json.loads(line) for line in out.read_text().splitlines()] == sim_rows(sim, since, until)


def test_a_killed_download_run_again_gives_the_same_file(sim: Simulator, tmp_path: Path) -> None:
    """5,000 bars are 50 pages: at OKX's 20 requests / 2 s the download takes over 4 s, and it is
    killed (SIGKILL) as soon as its file shows a first page."""
    since, until = iso(bars_back(5_000)), iso(bars_back(0))
    whole, killed = tmp_path / "whole.jsonl", tmp_path / "killed.jsonl"
    fetch(sim, "15m", "--since", since, "--until", until, "-o", str(whole))
    command = [str(Path(sys.executable).parent / "okx-fsm"), "candles", "fetch", SYMBOL, "15m"]
    command += ["--since", since, "--until", until, "-o", str(killed)]
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(command, env={**os.environ, **env(sim)}, stdout=quiet, stderr=quiet)
    deadline = time.monotonic() + CEILING_S
    while not (killed.exists() and killed.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert 0 < killed.stat().st_size < whole.stat().st_size
    _, stderr = fetch(sim, "15m", "--since", since, "--until", until, "-o", str(killed))
    assert "resuming after" in stderr
    assert killed.read_bytes() == whole.read_bytes()


def test_a_last_line_cut_short_is_fetched_again(sim: Simulator, tmp_path: Path) -> None:
    since, until = iso(bars_back(300)), iso(bars_back(0))
    whole, torn = tmp_path / "whole.csv", tmp_path / "torn.csv"
    fetch(sim, "15m", "--since", since, "--until", until, "-o", str(whole))
    text = whole.read_text()
    cut = text.index("\n", len(text) // 2) + 20
    torn.write_text(text[:cut])
    _, stderr = fetch(sim, "15m", "--since", since, "--until", until, "-o", str(torn))
    assert "cut a last line" in stderr
    assert torn.read_bytes() == whole.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["15m", "--since", "2026-01-02", "--until", "2026-01-02"], "is not before --until"),
        (["15m", "--since", "2026-01-03", "--until", "2026-01-02"], "is not before --until"),
        (["15m", "--since", "2026-02-01"], "is in the future"),
        (["15m", "--since", "2026-01-01", "--until", "2026-03-01"], "is in the future"),
        (["15min", "--since", "2026-01-01"], "unknown bar '15min'"),
        (["15m", "--since", "yesterday"], "expected an ISO 8601 date"),
    ],
    ids=["empty", "reversed", "future since", "future until", "unknown bar", "bad date"],
)
def test_a_bad_range_is_a_usage_error(sim: Simulator, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "eth.jsonl"
    sim.reset()
    _, stderr = fetch(sim, *args, "-o", str(out), expect=2)
    assert stderr.count("\n") == 1 and stderr.startswith("error: ") and message in stderr, stderr
    assert not out.exists()
    assert HISTORY not in sim.stats()["requests"]


def test_a_file_of_another_bar_is_refused_untouched(sim: Simulator, tmp_path: Path) -> None:
    out = tmp_path / "eth.jsonl"
    fetch(sim, "5m", "--since", iso(bars_back(10)), "--until", iso(bars_back(0)), "-o", str(out))
    before = out.read_bytes()
    _, stderr = fetch(sim, "15m", "--since", iso(bars_back(10)), "-o", str(out), expect=2)
    assert stderr.startswith(f"error: candle file {out} line 2: ")
    assert "not a whole number of 15m bars" in stderr and stderr.count("\n") == 1
    assert out.read_bytes() == before


def test_a_finished_download_run_again_asks_for_nothing(sim: Simulator, tmp_path: Path) -> None:
    out = tmp_path / "eth.jsonl"
    args = ("15m", "--since", iso(bars_back(120)), "--until", iso(bars_back(0)), "-o", str(out))
    fetch(sim, *args)
    before = out.read_bytes()
    sim.reset()
    stdout, _ = fetch(sim, *args)
    assert out.read_bytes() == before and HISTORY not in sim.stats()["requests"]
    assert f"0 bars added, 120 in all, newest {iso(bars_back(1))}" in stdout


def test_a_file_in_a_missing_directory_is_a_usage_error(sim: Simulator, tmp_path: Path) -> None:
    out = tmp_path / "nowhere" / "eth.jsonl"
    _, stderr = fetch(sim, "15m", "--since", iso(bars_back(10)), "-o", str(out), expect=2)
    assert stderr == f"error: cannot write {out}: {out.parent} is not a directory\n"
