"""`okx-fsm replay`: the real engine over a candle file, its state file, journal and report (report.json
and the charts, fsm.report: the same as `okx-fsm report` gives a live machine) written under --out.

The file is checked whole (bad line, wrong bar) before anything is written; the replay itself is
fsm.replay.driver. A progress bar on a terminal (bars, simulated date, cycles), plain lines on stderr
when piped; at the end a short summary counted from the journal's records (or --json).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fsm.cli.command import add
from fsm.cli.options import JsonOpt, MachineArg, console

if TYPE_CHECKING:
    from rich.console import Console

    from exchange import Candle
    from fsm.replay.candles import CandleFile
    from fsm.replay.driver import Progress

PLAIN_EVERY_BARS = 2_000  # piped: one progress line per this many bars

CandlesOpt = Annotated[Path, typer.Option("--candles", help="candle file (candles fetch, or synthetic)")]
FromOpt = Annotated[str | None, typer.Option("--from", help="first bar: ISO 8601 date or date-time (UTC)")]
ToOpt = Annotated[str | None, typer.Option("--to", help="end (exclusive), as --from")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="PARAM=VALUE (a YAML value) for this run, checked as the YAML's own"),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="new directory for the state file and journal (default: named)")
]
PathOrderOpt = Annotated[
    str, typer.Option("--path", help="bar path: nearer (extreme nearer the open first) | pessimistic")
]


def _decimal(text: str, flag: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{flag} must be a decimal number, got {text!r}") from None
    if not value.is_finite():
        raise typer.BadParameter(f"{flag} must be a finite number, got {text!r}")
    return value


def replay(
    machine: MachineArg,
    candles: CandlesOpt,
    from_: FromOpt = None,
    to: ToOpt = None,
    sets: SetOpt = None,
    out: OutOpt = None,
    path_order: PathOrderOpt = "nearer",
    slippage_bp: Annotated[str, typer.Option("--slippage-bp", help="market exits and stops pay this")] = "3",
    maker_fee: Annotated[str, typer.Option("--maker-fee", help="maker rate (OKX base tier)")] = "0.0002",
    taker_fee: Annotated[str, typer.Option("--taker-fee", help="taker rate (OKX base tier)")] = "0.0005",
    funding: Annotated[
        Path | None,
        typer.Option("--funding", help="funding-rate history file (OKX's rows): charged to the position"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run MACHINE through every bar of --candles in [--from, --to): the real engine against the
    simulator driven through the bars. Writes the state file and journal (verify-log checks it) under
    --out; the same file, machine, params and flags give a byte-identical journal."""
    from fsm.engine.machine import load_machine
    from fsm.replay.candles import CandleFile
    from fsm.replay.driver import Replay, ReplayModel, out_dir_for
    from fsm.replay.fetch import parse_date
    from fsm.replay.funding import read as read_funding
    from fsm.replay.path import PATH_ORDERS

    if path_order not in PATH_ORDERS:
        raise typer.BadParameter(f"--path must be one of {', '.join(PATH_ORDERS)}, got {path_order!r}")
    folder = out if out is not None else out_dir_for(Path(machine).stem, Path.cwd())
    loaded = load_machine(machine, state_dir=folder, overrides=sets or ())
    rates = () if funding is None else tuple(read_funding(funding, loaded.params.symbol))
    model = ReplayModel(
        funding_file=None if funding is None else str(funding),
        funding=rates,
        path_order=path_order,
        slippage_bp=_decimal(slippage_bp, "--slippage-bp"),
        maker_rate=_decimal(maker_fee, "--maker-fee"),
        taker_rate=_decimal(taker_fee, "--taker-fee"),
    )
    try:
        model.fill_model()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    start = None if from_ is None else parse_date(from_, "--from")
    end = None if to is None else parse_date(to, "--to")
    source = CandleFile(candles, loaded.params.bar)
    total = sum(1 for _ in _in_range(source, start, end))  # the whole range checked before a byte is written
    _make_out(folder)
    record = {
        "candles": str(candles),
        "bar": loaded.params.bar,
        "from": start,
        "to": end,
        "overrides": list(sets or ()),
        "gaps_in_range": len(source.gaps),
    }
    err = console(stderr=True)
    with _Progress(err, total) as progress:
        summary = Replay(loaded, model, record).run(_in_range(source, start, end), progress.update)
    doc = {"out": str(folder), "machine": loaded.name, "model": model.to_dict(), **summary.to_dict()}
    from fsm.replay.driver import VENUE_BILLS
    from fsm.report import write
    from fsm.report.funding import from_bills

    journal = loaded.state_path.with_suffix(".jsonl")
    candles_in_range = _in_range(source, start, end)
    charged = from_bills(folder / VENUE_BILLS, applied=funding is not None)
    report = write(
        loaded.name, journal, folder, candles=candles_in_range, since_ms=start, until_ms=end, funding=charged
    )
    doc["report"] = report.to_dict(relative_to=folder)
    if as_json:
        from fsm.cli.render import print_json

        print_json(doc)
        return
    _say(doc, folder)
    from fsm.report.tables import print_report

    print_report(console(), report.to_dict(relative_to=folder))


def _in_range(source: CandleFile, start: int | None, end: int | None) -> Iterator[Candle]:
    for candle in source:
        if end is not None and candle.ts >= end:
            return
        if start is None or candle.ts >= start:
            yield candle


def _make_out(folder: Path) -> None:
    """The replay's own directory: new, or empty."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise typer.BadParameter(f"--out {folder} exists and is not an empty directory: a replay writes anew")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise typer.BadParameter(f"--out {folder}: cannot create it ({exc.strerror})") from None


def _say(doc: dict[str, object], folder: Path) -> None:
    from fsm.replay.fetch import iso

    first, last = doc["first_ts"], doc["last_ts"]
    span = f"{iso(first)} .. {iso(last)}" if isinstance(first, int) and isinstance(last, int) else "no bars"
    gaps = doc["gaps"]
    print(f"replayed {doc['machine']}: {doc['bars']} bars ({span}), {doc['ticks']} ticks")
    if isinstance(gaps, list) and gaps:
        listed = ", ".join(f"{iso(g['after_ts'])} -> {iso(g['next_ts'])}" for g in gaps[:5])
        print(f"gaps crossed (no price made up): {len(gaps)}: {listed}{' ...' if len(gaps) > 5 else ''}")
    print(
        f"cycles {doc['cycles']}, fills {doc['fills']}, anomalies {doc['anomalies']}, "
        f"realized PnL {doc['realized_pnl']} USDT (net of fees)"
    )
    print(f"state file and journal in {folder} (okx-fsm verify-log {doc['machine']} --state-dir {folder})")


class _Progress:
    """Bars done of the range, the simulated date and cycles: a rich bar on a terminal, else a plain
    line every PLAIN_EVERY_BARS bars."""

    def __init__(self, err: Console, total: int) -> None:
        from fsm.cli.render import fancy

        self._err = err
        self._total = total
        self._bar = None
        if fancy(err):
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            self._bar = Progress(*columns, TimeRemainingColumn(), console=err)
            self._task = self._bar.add_task("replay", total=total)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, progress: Progress) -> None:
        from fsm.replay.fetch import iso

        said = f"{iso(progress.now_ms)} cycles {progress.cycles}"
        if self._bar is not None:
            self._bar.update(self._task, completed=progress.bars, description=said)
        elif progress.bars % PLAIN_EVERY_BARS == 0 or progress.bars == self._total:
            self._err.print(f"replay: {progress.bars}/{self._total} bars, {said}", markup=False)


def register(app: typer.Typer) -> None:
    """Add `replay` to `app`."""
    add(app, replay)
