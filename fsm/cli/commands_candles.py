"""`okx-fsm candles fetch`: a candle file for replay, downloaded from OKX's public history-candles (no
credentials), paced within OKX's rate limit, resumed where an interrupted download left its file.

A rich progress bar on a terminal; plain lines on stderr when piped. Every 429 wait is logged there too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fsm.cli.command import Group, add
from fsm.cli.options import BaseUrlOpt, console

if TYPE_CHECKING:
    from rich.console import Console

    from exchange import OkxError

SinceOpt = Annotated[str, typer.Option("--since", help="first bar's time: ISO 8601 date or date-time (UTC)")]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="end (exclusive), as --since (default: now, OKX's time)")
]
OutOpt = Annotated[
    Path, typer.Option("-o", "--output", help="the file: JSON arrays a line, or CSV when it ends in .csv")
]


def fetch(
    symbol: Annotated[str, typer.Argument(help="OKX instrument, e.g. ETH-USDT-SWAP")],
    bar: Annotated[str, typer.Argument(help="OKX bar, e.g. 1m, 15m, 1H, 1D (hours and days upper case)")],
    since: SinceOpt,
    output: OutOpt,
    until: UntilOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Download SYMBOL's closed BAR candles from --since to --until into FILE, oldest first.

    A FILE that exists is continued after its last bar (never rewritten); a last line an interrupted
    run left cut short is fetched again. Each row is OKX's own: ts, o, h, l, c, vol, volCcy,
    volCcyQuote, confirm.
    """
    from fsm.engine.venue import Venue
    from fsm.replay.fetch import check_bar, download, iso, parse_date, range_end, refuse_empty, resume_point

    span = check_bar(bar)
    since_ms = parse_date(since, "--since")
    until_ms = None if until is None else parse_date(until, "--until")
    if until_ms is not None:
        refuse_empty(since_ms, until_ms)  # known before asking OKX for its time
    err = console(stderr=True)
    client = Venue.from_options(base_url, False).public_client(on_retry=_logger(err))
    end_ms = range_end(since_ms, until_ms, client.get_server_time())
    resume = resume_point(output, bar)
    if resume.cut_bytes:
        err.print(f"{output}: cut a last line an interrupted run left short ({resume.cut_bytes} bytes)")
    start_ms = resume.start_ms(since_ms, bar)
    if resume.last_ts is not None:
        err.print(f"{output}: resuming after {iso(resume.last_ts)} ({resume.rows} bars already there)")
    total = max(0, -(-(end_ms - start_ms) // span))
    with _Progress(err, total, f"{symbol} {bar}") as progress:
        added = download(client, symbol, bar, since_ms, end_ms, output, resume, progress.update)
    newest = progress.last_ts or resume.last_ts
    last = "none" if newest is None else iso(newest)
    print(f"{output}: {added} bars added, {resume.rows + added} in all, newest {last}")


def _logger(err: Console) -> Callable[[str, OkxError, float], None]:
    def log(path: str, exc: OkxError, delay: float) -> None:
        err.print(f"{path}: {type(exc).__name__}: {exc}; waiting {delay:g} s and asking again", markup=False)

    return log


class _Progress:
    """Bars fetched out of the range's bars: a rich bar on a terminal, else a plain line a page."""

    def __init__(self, err: Console, total: int, label: str) -> None:
        from fsm.cli.render import fancy

        self._err = err
        self._total = total
        self._label = label
        self.last_ts = 0
        self._bar = None
        if fancy(err):
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            self._bar = Progress(*columns, TimeRemainingColumn(), console=err)
            self._task = self._bar.add_task(label, total=total)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, added: int, last_ts: int) -> None:
        from fsm.replay.fetch import iso

        self.last_ts = last_ts
        if self._bar is not None:
            self._bar.update(self._task, completed=added, description=f"{self._label} {iso(last_ts)}")
        else:
            self._err.print(f"{self._label}: {added}/{self._total} bars, to {iso(last_ts)}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the `candles` group (fetch) to `app`."""
    group = typer.Typer(name="candles", help="Candle files for replay.", cls=Group, no_args_is_help=True)
    add(group, fetch)
    app.add_typer(group)
