"""`okx-fsm replay` through the real CLI over a seeded synthetic file: the journal verifies and is
byte-identical run to run, gaps are crossed, every fill is the simulator's own and obeys the fill model
against the file's bars, and bad input (a bad line, another bar, a bad --set) is one line, exit 2,
nothing written."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from exchange.bars import bar_ms
from fsm.cli.app import app
from fsm.replay import synthetic
from fsm.replay.driver import VENUE_FILLS

MACHINE = "eth_robust_twap_15m"
BARS = 300  # three days and some of 15m bars: a gap, a crash bar, a few cycles
START_MS = 1_735_689_600_000
SPAN = bar_ms("15m")
JOURNAL = f"{MACHINE}_live.jsonl"


def run(*args: str, expect: int = 0) -> Any:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == expect, f"okx-fsm {' '.join(args)} -> {result.exit_code}\n{result.output}"
    return result


@pytest.fixture(scope="module")
def candles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, synthetic.Shape]:
    path = tmp_path_factory.mktemp("candles") / "week.jsonl"
    return path, synthetic.write(path, 5, "15m", START_MS, BARS)


@pytest.fixture(scope="module")
def replayed(candles: tuple[Path, synthetic.Shape], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The same replay twice, into two directories."""
    outs = [tmp_path_factory.mktemp("replay") / name for name in ("a", "b")]
    for out in outs:
        run("replay", MACHINE, "--candles", str(candles[0]), "--out", str(out), "--json")
    return outs


def records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / JOURNAL).read_text().splitlines()]


def test_the_journal_verifies_and_is_byte_identical(replayed: list[Path]) -> None:
    a, b = replayed
    assert (a / JOURNAL).read_bytes() == (b / JOURNAL).read_bytes()
    run("verify-log", MACHINE, "--state-dir", str(a))
    first = records(a)[0]
    assert first["kind"] == "replay"
    assert first["data"]["model"]["fsync"] is False and first["data"]["model"]["fill_on_touch"] is False


def test_gaps_are_crossed_and_cycles_run(candles: tuple[Path, synthetic.Shape], tmp_path: Path) -> None:
    path, shape = candles
    doc = json.loads(
        run("replay", MACHINE, "--candles", str(path), "--out", str(tmp_path / "o"), "--json").stdout
    )
    assert doc["bars"] == shape.rows
    assert [(g["after_ts"], g["next_ts"]) for g in doc["gaps"]] == shape.gaps and shape.gaps
    assert doc["last_ts"] == START_MS + (BARS - 1) * SPAN or doc["last_ts"] > shape.gaps[-1][1]
    assert doc["cycles"] > 0 and doc["fills"] > 0
    # no record is stamped inside a gap but the deadlines' ticks: the price never moved there
    for after, following in shape.gaps:
        inside = [
            r for r in records(tmp_path / "o") if after + SPAN < r["ts"] < following and r["kind"] == "fill"
        ]
        assert inside == []


def test_fills_are_the_simulators_and_obey_the_fill_model(
    candles: tuple[Path, synthetic.Shape], replayed: list[Path]
) -> None:
    out = replayed[0]
    venue = [json.loads(line) for line in (out / VENUE_FILLS).read_text().splitlines()]
    journaled = {r["data"]["tradeId"]: r["data"]["evidence"] for r in records(out) if r["kind"] == "fill"}
    assert venue and {f["tradeId"] for f in venue} == set(journaled)
    for fill in venue:
        assert journaled[fill["tradeId"]]["fillPx"] == fill["fillPx"]
        assert journaled[fill["tradeId"]]["fillSz"] == fill["fillSz"]
    bars = {int(row[0]): row for row in map(json.loads, candles[0].read_text().splitlines())}
    for fill in venue:
        t, px = int(fill["ts"]), Decimal(fill["fillPx"])
        # the bar the fill's instant falls in, and the one it closes (a fill at a boundary)
        near = [bars[ts] for ts in (t - t % SPAN, t - t % SPAN - SPAN) if ts in bars and ts <= t <= ts + SPAN]
        assert near, f"fill {fill['tradeId']} at {t} outside every bar of the file"
        low, high = min(Decimal(b[3]) for b in near), max(Decimal(b[2]) for b in near)
        if (
            fill["execType"] == "M"
        ):  # a resting post-only buy: the path traded below it, a touch is not enough
            assert fill["side"] == "buy" and low < px, fill
        else:  # a market exit or stop: a path price, 3 bp of slippage against it
            assert fill["side"] == "sell" and low * Decimal("0.9997") - Decimal("0.01") <= px <= high, fill


def test_a_set_changes_the_params_and_is_journaled(
    candles: tuple[Path, synthetic.Shape], tmp_path: Path
) -> None:
    offsets = '["0.002","0.004","0.006"]'
    run("replay", MACHINE, "--candles", str(candles[0]), "--out", str(tmp_path), "--to", "2025-01-02",
        "--set", f"offsets={offsets}", "--json")  # fmt: skip
    journal = records(tmp_path)
    assert journal[0]["data"]["overrides"] == [f"offsets={offsets}"]
    assert max(r["ts"] for r in journal) < 1_735_776_000_000
    intents = [r["data"] for r in journal if r["kind"] == "intent"]
    assert intents
    for intent in intents:  # the rungs sit at the overridden offsets below the reference, on the tick
        ref = Decimal(intent["signal"]["ref_px"])
        wanted = [
            (ref * (1 - Decimal(o))).quantize(Decimal("0.01"), "ROUND_DOWN") for o in json.loads(offsets)
        ]
        assert [Decimal(p["px"]) for p in intent["payloads"]] == wanted


@pytest.mark.parametrize(
    ("mutate", "said"),
    [
        (lambda lines: [*lines[:6], '["x"]\n', *lines[7:]], "line 7: malformed row"),
        (lambda lines: [*lines[:9], lines[8], *lines[10:]], "line 10: duplicate timestamp"),
        (lambda lines: [*lines[:4], lines[5], lines[4], *lines[6:]], "line 6: timestamp"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line(
    candles: tuple[Path, synthetic.Shape], tmp_path: Path, mutate: Any, said: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(mutate(candles[0].read_text().splitlines(keepends=True))))
    result = run("replay", MACHINE, "--candles", str(bad), "--out", str(tmp_path / "o"), expect=2)
    assert said in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_file_of_another_bar_is_refused(tmp_path: Path) -> None:
    five = tmp_path / "five.jsonl"
    synthetic.write(five, 1, "5m", START_MS, 60)
    result = run("replay", MACHINE, "--candles", str(five), "--out", str(tmp_path / "o"), expect=2)
    assert "line 2" in result.output and "15m" in result.output


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ('offsets=["x"]', "offsets"),
        ("hold_bars=-3", "hold_bars"),
        ("no_such_param=1", "no_such_param"),
        ("offsets", "PARAM=VALUE"),
    ],
)
def test_a_bad_set_is_refused_naming_the_param(
    candles: tuple[Path, synthetic.Shape], tmp_path: Path, setting: str, said: str
) -> None:
    args = ("replay", MACHINE, "--candles", str(candles[0]), "--out", str(tmp_path / "o"), "--set", setting)
    result = run(*args, expect=2)
    assert said in result.output and "--set" in result.output
    assert not (tmp_path / "o").exists()
