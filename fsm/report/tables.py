"""The report as rich tables, drawn from its JSON document (fsm.report.build): the cycles, the summary
beside buy-and-hold, the rungs' fill rates, and the files written. Nothing here computes a number."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from rich.console import Console

from fsm.cli.render import cell, duration, iso, new_table

CYCLE_COLUMNS = (
    "signal candle",
    "rungs placed/filled",
    "size",
    "avg entry",
    "exit",
    "reason",
    "realized",
    "fees",
    "held",
)


def print_report(console: Console, doc: Mapping[str, Any]) -> None:
    span = doc["range"]
    where = f"{iso(span['start_ms'])} to {iso(span['end_ms'])}" if span["start_ms"] is not None else "-"
    console.print(
        f"{doc['machine']}  report of {doc['journal']}  range {where}", markup=False, soft_wrap=True
    )
    if doc["cycles"]:
        console.print(_cycles_table(console, doc))
    else:
        console.print("cycles    none ended in the range")
    console.print(_summary_table(console, doc))
    if doc["summary"]["rungs"]:
        console.print(_rungs_table(console, doc["summary"]["rungs"]))
    funding = doc["funding"]
    if funding is not None:
        said = (
            "off (no funding file)"
            if not funding["applied"]
            else (
                f"on: {funding['charges']} charge(s), total {funding['total']} {doc['summary']['fee_ccy']} "
                f"(from the venue's bills, {funding['source']}; not in the cycles' PnL)"
            )
        )
        console.print(f"funding   {said}", markup=False, soft_wrap=True)
    for path in doc["files"]:
        console.print(f"wrote     {path}", markup=False, soft_wrap=True)
    if doc["charts_skipped"]:
        console.print(f"charts    skipped: {doc['charts_skipped']}", markup=False, soft_wrap=True)


def _cycles_table(console: Console, doc: Mapping[str, Any]) -> Any:
    table = new_table(
        console, *CYCLE_COLUMNS, title="cycles", right=("size", "avg entry", "realized", "fees")
    )
    for c in doc["cycles"]:
        table.add_row(
            iso(c["signal_candle_ts"]),
            f"{c['rungs_placed']}/{c['rungs_filled']}",
            c["size"],
            _shown(c["avg_entry"]),
            iso(c["exit_ts"]),
            cell(c["exit_reason"]),
            _shown(c["realized_pnl"]),
            _shown(c["fees"]),
            duration(c["holding_ms"]) if c["entry_ts"] is not None else "-",
        )
    return table


def _summary_table(console: Console, doc: Mapping[str, Any]) -> Any:
    s, hold = doc["summary"], doc["buy_and_hold"]
    ccy = cell(s["fee_ccy"])
    columns = ("", "cycles", "buy and hold") if hold is not None else ("", "cycles")
    table = new_table(console, *columns, title=f"summary ({ccy})")

    def row(name: str, ours: Any, theirs: Any = None) -> None:
        table.add_row(name, _shown(ours), *([_shown(theirs)] if hold is not None else []))

    row("cycles (traded)", f"{s['cycles']} ({s['traded']})")
    row("win rate", _pct(s["win_rate"]), None)
    row("total PnL", s["total_pnl"], hold and hold["pnl"])
    row("average PnL", s["avg_pnl"])
    row("fees", s["fees"])
    row("max drawdown", s["max_drawdown"], hold and hold["max_drawdown"])
    row("profit factor", s["profit_factor"])
    exposure = duration(s["exposure_ms"]) + (f" ({_pct(s['exposure'])})" if s["exposure"] else "")
    row("exposure", exposure, "whole range" if hold else None)
    row("longest losing streak", s["longest_losing_streak"])
    row("exit reasons", ", ".join(f"{k} {n}" for k, n in sorted(s["exit_reasons"].items())) or None)
    if hold is not None:
        row("price", None, f"{hold['first_px']} -> {hold['last_px']} ({hold['return_pct']} %)")
        row("size (contracts)", None, hold["size"])
    return table


def _rungs_table(console: Console, rungs: list[Mapping[str, Any]]) -> Any:
    table = new_table(console, "rung", "placed", "with fills", "whole size", "fill rate", title="rungs")
    for r in rungs:
        table.add_row(
            str(r["level"]), str(r["placed"]), str(r["with_fills"]), str(r["full"]), _pct(r["fill_rate"])
        )
    return table


SHOWN = Decimal("0.00000001")  # the tables round to eight places; the JSON keeps every digit


def _shown(value: Any) -> str:
    """A decimal string rounded for the eye (an average divides: 28 digits); anything else as it is."""
    if isinstance(value, str):
        try:
            number = Decimal(value)
        except ArithmeticError:
            return value
        exponent = number.as_tuple().exponent  # a letter for nan and infinity
        if isinstance(exponent, int) and exponent < -8:
            return format(number.quantize(SHOWN).normalize(), "f")
    return cell(value)


def _pct(fraction: str | None) -> str:
    """A four-place fraction as a percentage with two places ("0.6667" -> "66.67 %")."""
    if fraction is None:
        return "-"
    return f"{Decimal(fraction) * 100:.2f} %"
