"""Candle files: OKX's own candle rows, oldest first, one JSON array a line, or CSV with a header when
the name ends in `.csv`. `candles fetch` writes them, replay reads them.

The format lives here, in fsm and not in exchange, because the file is the product's: exchange speaks
OKX's wire and stops there; a row is still read by exchange's own candle parser, so a file row and a
wire row are judged alike. Reading streams, one row at a time, each checked against the one before: a
bad file is refused at its first bad line (CandleFileError, exit 2, naming the file and the line), and
missing bars are listed as gaps, never filled in.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from exchange import Candle, OkxInvalidPayload
from exchange.bars import bar_ms
from exchange.records.market import parse_candle
from fsm.errors import EngineError, ExitStatus

COLUMNS = ("ts", "o", "h", "l", "c", "vol", "volCcy", "volCcyQuote", "confirm")


class CandleFileError(EngineError):
    """A candle file that cannot be replayed as it is: one stable message naming the file and line."""

    exit_code = ExitStatus.USAGE

    def __init__(self, path: Path, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"candle file {path} line {line}: {reason}")


@dataclass(frozen=True)
class Gap:
    """Bars missing between two rows (OKX has them around maintenance): `missing` bars after `after_ts`."""

    after_ts: int
    next_ts: int
    missing: int


def is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def render(rows: Iterable[Sequence[str]], as_csv: bool) -> str:
    """Rows as the file's lines (the nine documented fields of each), every line ending in a newline."""
    if as_csv:
        return "".join(",".join(row[: len(COLUMNS)]) + "\n" for row in rows)
    return "".join(json.dumps(list(row[: len(COLUMNS)]), separators=(",", ":")) + "\n" for row in rows)


def append(path: Path, rows: Sequence[Sequence[str]]) -> None:
    """Add rows at the end in one write, made durable before returning (a CSV file starts with its
    header), so an interrupted download leaves whole lines behind all but perhaps the last one."""
    as_csv = is_csv(path)
    text = render(rows, as_csv)
    if as_csv and (not path.exists() or path.stat().st_size == 0):
        text = ",".join(COLUMNS) + "\n" + text
    with path.open("a", encoding="utf-8", newline="") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())


class CandleFile:
    """One candle file of `bar`, read as it is iterated: each candle once, oldest first.

    `gaps` lists the missing bars seen so far (all of them once iteration ends), `rows` the rows read.
    """

    def __init__(self, path: Path, bar: str) -> None:
        self.path = path
        self.bar = bar
        self.span = bar_ms(bar)
        self.gaps: list[Gap] = []
        self.rows = 0
        self.last_ts: int | None = None

    def __iter__(self) -> Iterator[Candle]:
        self.gaps, self.rows, self.last_ts = [], 0, None
        previous: Candle | None = None
        step: int | None = None  # the step before the current one, when it was a gap
        for line, row in self._rows():
            candle = self._candle(line, row)
            if previous is not None:
                step = self._check_step(line, previous.ts, candle.ts, step)
            previous = candle
            self.rows += 1
            self.last_ts = candle.ts
            yield candle

    def _check_step(self, line: int, before: int, ts: int, gap_before: int | None) -> int | None:
        """Judge the step from the row before; return it when it is a gap (to compare with the next)."""
        step = ts - before
        if step == 0:
            self._refuse(line, f"duplicate timestamp {ts}")
        if step < 0:
            self._refuse(line, f"timestamp {ts} before the line above's {before}: rows go oldest first")
        if step % self.span:
            self._refuse(line, f"rows {step} ms apart: not a whole number of {self.bar} bars")
        if step == self.span:
            return None
        if step == gap_before:
            self._refuse(line, f"rows {step} ms apart twice in a row: a coarser bar than {self.bar}")
        self.gaps.append(Gap(before, ts, step // self.span - 1))
        return step

    def _candle(self, line: int, row: object) -> Candle:
        try:
            candle = parse_candle(row)
        except OkxInvalidPayload as exc:
            self._refuse(line, f"malformed row: {exc}")
        if not isinstance(row, list) or len(row) != len(COLUMNS) or not all(isinstance(v, str) for v in row):
            self._refuse(line, f"malformed row: expected {len(COLUMNS)} strings ({', '.join(COLUMNS)})")
        if not candle.confirm:
            self._refuse(line, "a bar still forming (confirm 0): only closed bars replay")
        if not (0 < candle.l <= min(candle.o, candle.c) and candle.h >= max(candle.o, candle.c)):
            self._refuse(line, "malformed row: low and high do not hold open and close")
        return candle

    def _rows(self) -> Iterator[tuple[int, object]]:
        """(line number, row) for every data line: a JSON array, or a CSV record after the header."""
        lines = self._lines()
        if not is_csv(self.path):
            for number, text in lines:
                yield number, self._json_row(number, text)
            return
        records = csv.reader(text for _, text in lines)
        try:
            header = next(records, None)
            if header is not None and tuple(header) != COLUMNS:
                self._refuse(1, f"the header must be {','.join(COLUMNS)}")
            for record in records:
                yield records.line_num, record
        except csv.Error as exc:
            self._refuse(records.line_num, f"malformed CSV: {exc}")

    def _lines(self) -> Iterator[tuple[int, str]]:
        try:
            with self.path.open("rb") as source:
                for number, raw in enumerate(source, start=1):
                    try:
                        yield number, raw.decode("utf-8")
                    except UnicodeDecodeError:
                        self._refuse(number, "not UTF-8 text")
        except OSError as exc:
            raise CandleFileError(self.path, 0, f"cannot read it: {exc.strerror}") from None

    def _json_row(self, number: int, text: str) -> object:
        try:
            return json.loads(text)
        except ValueError:
            torn = not text.endswith("\n")
            self._refuse(number, "cut short (an interrupted write)" if torn else "malformed row: not JSON")

    def _refuse(self, line: int, reason: str) -> NoReturn:
        raise CandleFileError(self.path, line, reason)
