"""`okx-fsm report`: a machine's cycles, PnL, fees, drawdown and fill rates from its journal (every
number from the journaled fills), with buy-and-hold from a candle file, and charts into a folder.
Local files only: no network, no lock, nothing written outside --out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fsm.cli.command import add
from fsm.cli.options import DEFAULT_STATE_DIR, Common, JsonOpt, MachineArg, StateDirOpt, state_dir_usable

FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from", help="cycles that ended from this ISO 8601 date or date-time on (UTC, exchange time)"
    ),
]
ToOpt = Annotated[str | None, typer.Option("--to", help="cycles that ended before this (as --from)")]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="write report.json and the charts (PNG, SVG) here", callback=state_dir_usable),
]
CandlesOpt = Annotated[
    Path | None,
    typer.Option(
        "--candles", help="a candle file of the machine's bar (candles fetch): buy-and-hold, price chart"
    ),
]


def report(
    machine: MachineArg,
    state_dir: StateDirOpt = DEFAULT_STATE_DIR,
    since: FromOpt = None,
    until: ToOpt = None,
    out: OutOpt = None,
    candles: CandlesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The machine's finished cycles and what they made, from its journal; charts with --out.

    Per cycle: signal candle, rungs placed/filled, size, average entry, exit, exit reason, realized
    PnL, fees, holding time. Summary: win rate, total and average PnL, fees, max drawdown, profit
    factor, exposure, longest losing streak, per-rung fill rate; buy-and-hold beside it with --candles.

    Reads and verifies the journal (a broken chain is refused); cycles count on the day they ended.
    """
    from fsm.engine.machine import load_machine
    from fsm.errors import StateRefused
    from fsm.replay.candles import CandleFile
    from fsm.report import build, write
    from fsm.report.tables import print_report

    since_ms, until_ms = _date(since, "--from"), _date(until, "--to")
    if since_ms is not None and until_ms is not None and since_ms >= until_ms:
        raise typer.BadParameter(f"--from {since} is not before --to {until}", param_hint="'--from'")
    loaded = load_machine(machine, state_dir=state_dir)
    journal = loaded.state_path.with_suffix(".jsonl")
    if not journal.exists():
        raise StateRefused(
            f"no journal at {journal}: this machine has not ticked with --state-dir {state_dir}"
        )
    prices = None if candles is None else CandleFile(candles, loaded.params.bar)
    if out is None:
        doc = build(loaded.name, journal, candles=prices, since_ms=since_ms, until_ms=until_ms).to_dict()
        doc["charts_skipped"] = "no --out folder to draw them into"
    else:
        doc = write(loaded.name, journal, out, candles=prices, since_ms=since_ms, until_ms=until_ms).to_dict()
    Common(state_dir, as_json=as_json).emit(doc, print_report)


def _date(text: str | None, option: str) -> int | None:
    """An ISO 8601 date or date-time (UTC unless it carries an offset) as exchange ms."""
    if text is None:
        return None
    from fsm.replay.fetch import parse_date

    return parse_date(text, option)


def register(app: typer.Typer) -> None:
    add(app, report)
