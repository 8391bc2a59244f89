"""One report of a machine's journal: read the cycles, compute the numbers, and (with an output
folder) write report.json and the charts beside it. `okx-fsm report` and replay both call this.

The document's keys are stable (the README documents them); every money value is a decimal string.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange import Candle
from fsm.engine.orders import dec
from fsm.report import stats
from fsm.report.cycles import Cycle, read_cycles
from fsm.report.funding import Funding

CHARTS_EXTRA = "pip install 'okx-fsm[charts]' (make installs it)"


@dataclass(frozen=True)
class Prices:
    """The candles in the report's range, as the charts and buy-and-hold need them."""

    first_open: Decimal
    closes: list[tuple[int, Decimal]]


def prices_in_range(candles: Iterable[Candle], since_ms: int | None, until_ms: int | None) -> Prices | None:
    first_open: Decimal | None = None
    closes: list[tuple[int, Decimal]] = []
    for candle in candles:
        if (since_ms is not None and candle.ts < since_ms) or (
            until_ms is not None and candle.ts >= until_ms
        ):
            continue
        if first_open is None:
            first_open = candle.o
        closes.append((candle.ts, candle.c))
    return None if first_open is None else Prices(first_open, closes)


@dataclass
class Report:
    """What the report says: the cycles in range, their summary, buy-and-hold, the equity curve, and
    which files were written (`charts_skipped` says why none were drawn)."""

    machine: str
    journal: Path
    since_ms: int | None
    until_ms: int | None
    span: tuple[int, int] | None
    cycles: list[Cycle]
    summary: stats.Summary
    equity: list[stats.EquityPoint]
    buy_and_hold: stats.BuyAndHold | None
    prices: Prices | None = None
    funding: Funding | None = None  # None: not known (a live journal's report reads no bills)
    files: list[Path] = field(default_factory=list)
    charts_skipped: str | None = None

    def to_dict(self, relative_to: Path | None = None) -> dict[str, Any]:
        """The document; paths inside `relative_to` are written relative to it (report.json names its
        neighbours, so the same journal gives the same bytes wherever the folder is)."""

        def shown(path: Path) -> str:
            if relative_to is not None and path.is_relative_to(relative_to):
                return str(path.relative_to(relative_to))
            return str(path)

        return {
            "machine": self.machine,
            "journal": shown(self.journal),
            "range": {
                "from_ms": self.since_ms,
                "to_ms": self.until_ms,
                "start_ms": None if self.span is None else self.span[0],
                "end_ms": None if self.span is None else self.span[1],
            },
            "cycles": [cycle_document(c) for c in self.cycles],
            "summary": summary_document(self.summary),
            "equity": [
                {"ts": p.ts, "equity": dec(p.equity), "drawdown": dec(p.drawdown)} for p in self.equity
            ],
            "buy_and_hold": None if self.buy_and_hold is None else buy_and_hold_document(self.buy_and_hold),
            "funding": None if self.funding is None else self.funding.to_dict(),
            "files": [shown(path) for path in self.files],
            "charts_skipped": self.charts_skipped,
        }


def _opt(value: Decimal | None) -> str | None:
    return None if value is None else dec(value)


def cycle_document(cycle: Cycle) -> dict[str, Any]:
    s = cycle.summary
    placed = [r for r in cycle.rungs if r.ordId is not None]
    return {
        "cycle_id": cycle.cycle_id,
        "side": cycle.entry_side,
        "signal_candle_ts": None if cycle.signal is None else cycle.signal.candle_ts,
        "start_ts": cycle.start_ts,
        "entry_ts": cycle.entry_ts,
        "exit_ts": cycle.end_ts if cycle.exits else None,
        "end_ts": cycle.end_ts,
        "holding_ms": cycle.holding_ms,
        "rungs_placed": len(placed),
        "rungs_filled": sum(1 for r in placed if r.accFillSz > 0),
        "rungs": [
            {
                "level": r.level,
                "clOrdId": r.clOrdId,
                "ordId": r.ordId,
                "px": dec(r.px),
                "sz": dec(r.sz),
                "accFillSz": dec(r.accFillSz),
                "state": r.state,
            }
            for r in cycle.rungs
        ],
        "size": dec(s.bought),
        "exited": dec(s.sold),
        "avg_entry": _opt(s.avg_entry),
        "avg_exit": _opt(s.avg_exit),
        "exit_reason": cycle.exit_reason,
        "realized_pnl": _opt(s.realized_pnl),
        "fees": dec(s.fees),
        "fee_ccy": s.fee_ccy,
        "fills": [f.to_dict() for f in cycle.fills],
        "stops": [
            {"algoClOrdId": st.algoClOrdId, "slTriggerPx": dec(st.slTriggerPx), "submit_ts": st.submit_ts}
            for st in cycle.stops
        ],
    }


def summary_document(s: stats.Summary) -> dict[str, Any]:
    return {
        "cycles": s.cycles,
        "traded": s.traded,
        "wins": s.wins,
        "losses": s.losses,
        "win_rate": _opt(s.win_rate),
        "total_pnl": dec(s.total_pnl),
        "avg_pnl": _opt(s.avg_pnl),
        "fees": dec(s.fees),
        "fee_ccy": s.fee_ccy,
        "gross_profit": dec(s.gross_profit),
        "gross_loss": dec(s.gross_loss),
        "profit_factor": _opt(s.profit_factor),
        "max_drawdown": dec(s.max_drawdown),
        "exposure_ms": s.exposure_ms,
        "exposure": _opt(s.exposure),
        "longest_losing_streak": s.longest_losing_streak,
        "exit_reasons": dict(s.exit_reasons),
        "rungs": [
            {
                "level": r.level,
                "placed": r.placed,
                "with_fills": r.filled,
                "full": r.full,
                "fill_rate": _opt(r.fill_rate),
            }
            for r in s.rungs
        ],
    }


def buy_and_hold_document(b: stats.BuyAndHold) -> dict[str, Any]:
    return {
        "first_ts": b.first_ts,
        "last_ts": b.last_ts,
        "first_px": dec(b.first_px),
        "last_px": dec(b.last_px),
        "return_pct": dec(b.return_pct),
        "size": _opt(b.size),
        "pnl": _opt(b.pnl),
        "max_drawdown": _opt(b.max_drawdown),
        "max_drawdown_pct": dec(b.max_drawdown_pct),
    }


def build(
    machine: str,
    journal: Path,
    *,
    candles: Iterable[Candle] | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    funding: Funding | None = None,
) -> Report:
    """The report of `journal`'s cycles that ended in [since, until) (every cycle by default); `funding`
    as the venue's bills show it, when they are known."""
    cycles = stats.in_range(read_cycles(journal), since_ms, until_ms)
    prices = None if candles is None else prices_in_range(candles, since_ms, until_ms)
    span = stats.span(cycles, since_ms, until_ms, prices.closes if prices is not None else None)
    return Report(
        machine=machine,
        journal=journal,
        since_ms=since_ms,
        until_ms=until_ms,
        span=span,
        cycles=cycles,
        summary=stats.summarize(cycles, None if span is None else span[1] - span[0]),
        equity=stats.equity_curve(cycles),
        buy_and_hold=None if prices is None else stats.buy_and_hold(prices.first_open, prices.closes, cycles),
        prices=prices,
        funding=funding,
    )


def write(
    machine: str,
    journal: Path,
    out_dir: Path,
    *,
    candles: Iterable[Candle] | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    funding: Funding | None = None,
) -> Report:
    """Build the report and write it into `out_dir`: the charts (PNG and SVG; skipped, and said so,
    without matplotlib) and report.json, which lists them."""
    report = build(machine, journal, candles=candles, since_ms=since_ms, until_ms=until_ms, funding=funding)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        from fsm.report import charts
    except ImportError:
        report.charts_skipped = f"matplotlib is not installed: {CHARTS_EXTRA}"
    else:
        report.files = charts.draw(report, out_dir)
    target = out_dir / "report.json"
    report.files.append(target)
    _write_json(target, report.to_dict(relative_to=out_dir))
    return report


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    """Replace `path` whole (a temporary file renamed over it), never leaving half a document."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
