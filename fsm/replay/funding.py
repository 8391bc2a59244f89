"""Funding files: OKX's funding-rate history rows (`GET /api/v5/public/funding-rate-history`: instId,
fundingRate, realizedRate, fundingTime, ...), oldest first, one JSON object a line, or CSV with a header
naming the fields when the name ends in `.csv`. A replay given one has the simulator charge each funding
time to the open position; without one, funding is off.

The rate charged is the row's realizedRate (what OKX settled), or its fundingRate where realizedRate is
empty. A bad file is refused whole, before anything is written, at its first bad line (exit 2).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn

from fsm.errors import EngineError, ExitStatus
from fsm.replay.candles import is_csv

REQUIRED = ("instId", "fundingRate", "fundingTime")
MAX_RATE = Decimal("0.1")  # OKX caps funding far below 10 % a period: more is a misread column


class FundingFileError(EngineError):
    """A funding file that cannot be applied as it is: one message naming the file and line."""

    exit_code = ExitStatus.USAGE

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"funding file {path} line {line}: {reason}")


@dataclass(frozen=True)
class Rate:
    """One funding time of the file and the rate charged then."""

    ts: int
    rate: Decimal


def read(path: Path, inst_id: str) -> list[Rate]:
    """Every row of the file (of `inst_id`), checked: fields, numbers, one instrument, oldest first."""
    out: list[Rate] = []
    for line, row in _rows(path):
        rate = _rate(path, line, row, inst_id)
        if out and rate.ts <= out[-1].ts:
            order = (
                "duplicate fundingTime" if rate.ts == out[-1].ts else "fundingTime before the line above's"
            )
            _refuse(path, line, f"{order} ({rate.ts}): rows go oldest first")
        out.append(rate)
    return out


def _rate(path: Path, line: int, row: object, inst_id: str) -> Rate:
    if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in REQUIRED):
        _refuse(path, line, f"malformed row: expected an object with {', '.join(REQUIRED)} as strings")
    if row["instId"] != inst_id:
        _refuse(path, line, f"instId {row['instId']}, not the machine's {inst_id}")
    if not row["fundingTime"].isdigit() or not 10**12 <= int(row["fundingTime"]) < 10**13:
        _refuse(path, line, f"fundingTime {row['fundingTime']!r} is not a time in ms")
    realized = row.get("realizedRate")
    text = realized if isinstance(realized, str) and realized else row["fundingRate"]
    try:
        rate = Decimal(text)
    except InvalidOperation:
        _refuse(path, line, f"rate {text!r} is not a decimal number")
    if not rate.is_finite() or abs(rate) > MAX_RATE:
        _refuse(path, line, f"rate {text!r} is not a funding rate (at most {MAX_RATE} a period)")
    return Rate(int(row["fundingTime"]), rate)


def _rows(path: Path) -> list[tuple[int, object]]:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise FundingFileError(path, 0, f"cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError:
        _refuse(path, 0, "not UTF-8 text")
    lines = text.splitlines()
    if is_csv(path):
        try:
            records = list(csv.DictReader(lines))
        except csv.Error as exc:
            _refuse(path, 1, f"malformed CSV: {exc}")
        return [(n, dict(r)) for n, r in enumerate(records, start=2)]
    out: list[tuple[int, object]] = []
    for number, raw in enumerate(lines, start=1):
        try:
            out.append((number, json.loads(raw)))
        except ValueError:
            _refuse(path, number, "malformed row: not JSON")
    return out


def _refuse(path: Path, line: int, reason: str) -> NoReturn:
    raise FundingFileError(path, line, reason)
