"""The candle-file reader: both formats read alike, each bad file refused at its line, gaps listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fsm.errors import ExitStatus
from fsm.replay.candles import COLUMNS, CandleFile, CandleFileError, Gap, append

T0, M15 = 1_767_571_200_000, 900_000


def row(ts: int, o: str = "3000", h: str = "3010", c: str = "3005", confirm: str = "1") -> list[str]:
    return [str(ts), o, h, "2990", c, "120", "12", "36060", confirm]


def json_file(tmp_path: Path, lines: list[str], name: str = "c.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines))
    return path


def lines_of(*rows: list[str]) -> list[str]:
    return [json.dumps(r) for r in rows]


def read(path: Path, bar: str = "15m") -> tuple[list[int], CandleFile]:
    reader = CandleFile(path, bar)
    return [c.ts for c in reader], reader


def refusal(path: Path, bar: str = "15m") -> CandleFileError:
    with pytest.raises(CandleFileError) as caught:
        read(path, bar)
    assert caught.value.exit_code == ExitStatus.USAGE
    assert str(caught.value).startswith(f"candle file {path} line {caught.value.line}: ")
    return caught.value


def test_json_lines_and_csv_read_the_same_candles(tmp_path: Path) -> None:
    rows = [row(T0 + i * M15) for i in range(5)]
    append(tmp_path / "c.jsonl", rows)
    append(tmp_path / "c.csv", rows)
    assert (tmp_path / "c.csv").read_text().splitlines()[0] == ",".join(COLUMNS)
    as_json, as_csv = CandleFile(tmp_path / "c.jsonl", "15m"), CandleFile(tmp_path / "c.csv", "15m")
    assert list(as_json) == list(as_csv)
    assert [list(c.raw) for c in as_json] == rows
    assert as_json.rows == 5 and as_json.last_ts == T0 + 4 * M15 and as_json.gaps == []


def test_gaps_are_listed_and_no_bar_is_invented(tmp_path: Path) -> None:
    stamps = [T0, T0 + M15, T0 + 4 * M15, T0 + 5 * M15, T0 + 7 * M15]
    ts, reader = read(json_file(tmp_path, lines_of(*(row(t) for t in stamps))))
    assert ts == stamps
    assert reader.gaps == [Gap(T0 + M15, T0 + 4 * M15, 2), Gap(T0 + 5 * M15, T0 + 7 * M15, 1)]


@pytest.mark.parametrize(
    ("rows", "line", "reason"),
    [
        ([row(T0), row(T0 + M15), row(T0 + M15)], 3, "duplicate timestamp"),
        ([row(T0), row(T0 + 2 * M15), row(T0 + M15)], 3, "rows go oldest first"),
        ([row(T0), row(T0 + M15), row(T0 + 5 * 60_000 + M15)], 3, "not a whole number of 15m bars"),
        ([row(T0), row(T0 + 4 * M15), row(T0 + 8 * M15)], 3, "a coarser bar than 15m"),
        ([row(T0), row(T0 + M15, h="2999")], 2, "low and high do not hold open and close"),
        ([row(T0), row(T0 + M15, c="abc")], 2, "malformed row"),
        ([row(T0), row(T0 + M15)[:8]], 2, "malformed row"),
        ([row(T0), [*row(T0 + M15), "extra"]], 2, "malformed row: expected 9 strings"),
        ([row(T0), row(T0 + M15, confirm="0")], 2, "still forming"),
    ],
    ids=["duplicate", "unsorted", "finer bar", "coarser bar", "high", "price", "short", "long", "forming"],
)
def test_a_bad_row_is_refused_naming_its_line(
    tmp_path: Path, rows: list[list[str]], line: int, reason: str
) -> None:
    as_csv = tmp_path / "c.csv"
    as_csv.write_text("".join(",".join(r) + "\n" for r in [list(COLUMNS), *rows]))
    for path in (json_file(tmp_path, lines_of(*rows)), as_csv):
        error = refusal(path)
        assert error.line == line + (1 if path.suffix == ".csv" else 0), str(error)
        assert reason in error.reason


def test_json_that_is_not_a_row_and_a_torn_last_line_are_refused(tmp_path: Path) -> None:
    assert refusal(json_file(tmp_path, [json.dumps(row(T0)), "{not json"])).line == 2
    torn = tmp_path / "torn.jsonl"
    torn.write_text(json.dumps(row(T0)) + "\n" + json.dumps(row(T0 + M15))[:30])
    error = refusal(torn)
    assert (error.line, error.reason) == (2, "cut short (an interrupted write)")


def test_csv_with_another_header_and_a_non_utf8_line_are_refused(tmp_path: Path) -> None:
    bad_header = tmp_path / "h.csv"
    bad_header.write_text("time,open,high,low,close\n")
    assert refusal(bad_header).line == 1
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(json.dumps(row(T0)).encode() + b"\n\xff\xfe\n")
    error = refusal(binary)
    assert (error.line, error.reason) == (2, "not UTF-8 text")


def test_the_reader_streams_yielding_rows_before_it_meets_a_bad_line(tmp_path: Path) -> None:
    path = json_file(tmp_path, [*lines_of(row(T0), row(T0 + M15)), "garbage"])
    candles = iter(CandleFile(path, "15m"))
    assert next(candles).ts == T0 and next(candles).ts == T0 + M15
    with pytest.raises(CandleFileError):
        next(candles)


def test_an_unknown_bar_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown bar '15M'"):
        CandleFile(json_file(tmp_path, []), "15M")
