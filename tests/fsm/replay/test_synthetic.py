"""The synthetic candle files: one seed, one file; trend, chop, gaps and a crash bar, readable by replay."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from fsm.replay.candles import CandleFile
from fsm.replay.synthetic import CHOP, TREND_DOWN, TREND_UP, write

T0, BARS = 1_735_689_600_000, 9_000


def test_a_seed_makes_the_same_file_byte_for_byte_and_another_seed_another(tmp_path: Path) -> None:
    for name, seed in (("a.jsonl", 5), ("b.jsonl", 5), ("c.jsonl", 6)):
        write(tmp_path / name, seed, "15m", T0, 2_000)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()


def test_csv_holds_the_same_rows(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", 5, "15m", T0, 500)
    write(tmp_path / "a.csv", 5, "15m", T0, 500)
    assert list(CandleFile(tmp_path / "a.jsonl", "15m")) == list(CandleFile(tmp_path / "a.csv", "15m"))


def test_a_new_file_only(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text("mine\n")
    with pytest.raises(FileExistsError):
        write(tmp_path / "a.jsonl", 5, "15m", T0, 10)
    assert (tmp_path / "a.jsonl").read_text() == "mine\n"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_shapes_are_there(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "s.jsonl"
    shape = write(path, seed, "15m", T0, BARS)
    reader = CandleFile(path, "15m")
    candles = {c.ts: c for c in reader}
    assert len(candles) == shape.rows < BARS
    # gaps: the reader finds exactly the gaps the generator left, and no bar is made up for them
    assert [(g.after_ts, g.next_ts) for g in reader.gaps] == shape.gaps and shape.gaps
    assert sum(g.missing for g in reader.gaps) == BARS - shape.rows
    # the crash bar: the biggest fall of any bar, several times the next biggest
    assert shape.crash_ts is not None
    falls = sorted(((c.o - c.l) / c.o, ts) for ts, c in candles.items())
    (crash_fall, crash_ts), (next_fall, _) = falls[-1], falls[-2]
    assert crash_ts == shape.crash_ts and crash_fall >= Decimal("0.08") and crash_fall > 3 * next_fall
    # trends move their way more than chop does, measured on the bars of each regime
    kinds = {kind for kind, _, _ in shape.regimes}
    assert kinds == {TREND_UP, TREND_DOWN, CHOP}

    def move(kind: str) -> Decimal:
        moves = []
        for k, first, last in shape.regimes:
            inside = [c for ts, c in candles.items() if first <= ts <= last and ts != shape.crash_ts]
            if k == kind and len(inside) > 100:
                moves.append((inside[-1].c - inside[0].o) / inside[0].o)
        return sum(moves, Decimal(0)) / len(moves)

    assert move(TREND_UP) > Decimal("0.05") and move(TREND_DOWN) < Decimal("-0.05")
    assert abs(move(CHOP)) < Decimal("0.05")
