"""The report's two charts, each as PNG and SVG: the price with every cycle's rungs, fills, exits and
stops marked, and the equity curve (realized PnL summed cycle by cycle) over its drawdown.

Needs matplotlib (the `charts` extra): importing this module without it raises ImportError, which the
report turns into "charts skipped". Drawn headless (the Agg backend); nothing here computes a number.
"""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from fsm.report.build import Report
    from fsm.report.cycles import Cycle

FORMATS = ("png", "svg")


DAY_MS = 86_400_000


def _time(ts_ms: int) -> float:
    """Exchange ms as matplotlib's date number: days since its epoch, 1970-01-01 UTC (the default)."""
    return ts_ms / DAY_MS


def draw(report: Report, out_dir: Path) -> list[Path]:
    """Draw both charts into `out_dir`; the files written, in order."""
    written: list[Path] = []
    for name, figure in (("price", _price(report)), ("equity", _equity(report))):
        try:
            for fmt in FORMATS:
                path = out_dir / f"{name}.{fmt}"
                figure.savefig(path, format=fmt, dpi=110)
                written.append(path)
        finally:
            plt.close(figure)
    return written


def _price(report: Report) -> Figure:
    figure, axes = plt.subplots(figsize=(12, 6))
    if report.prices is not None:
        axes.plot(
            [_time(ts) for ts, _ in report.prices.closes],
            [float(px) for _, px in report.prices.closes],
            color="0.55",
            linewidth=0.8,
            label="close",
        )
    labelled: set[str] = set()
    for cycle in report.cycles:
        _mark_cycle(axes, cycle, labelled)
    axes.set_title(f"{report.machine}: price, rungs, fills, exits and stops")
    axes.set_ylabel("price")
    axes.xaxis_date(tz=UTC)
    if report.cycles or report.prices is not None:
        axes.legend(loc="best", fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def _once(label: str, labelled: set[str]) -> str:
    """The legend names each kind of mark once (matplotlib leaves out a label starting with "_")."""
    if label in labelled:
        return "_nolegend_"
    labelled.add(label)
    return label


def _mark_cycle(axes: Axes, cycle: Cycle, labelled: set[str]) -> None:
    """A cycle's rungs as segments from its start to its end, entry fills ^, exit fills v, stops dashed."""
    start, end = _time(cycle.start_ts), _time(max(cycle.end_ts, cycle.start_ts))
    for rung in cycle.rungs:
        px = float(rung.px)
        axes.plot([start, end], [px, px], color="tab:blue", linewidth=1, label=_once("rung", labelled))
    for stop in cycle.stops:
        begin = _time(stop.submit_ts) if stop.submit_ts is not None else start
        px, label = float(stop.slTriggerPx), _once("stop", labelled)
        axes.plot([begin, end], [px, px], color="tab:red", linestyle="--", linewidth=1, label=label)
    for fills, marker, colour, kind in (
        (cycle.entries, "^", "tab:green", "entry fill"),
        (cycle.exits, "v", "tab:orange", "exit fill"),
    ):
        if fills:
            times, prices = [_time(f.fillTime) for f in fills], [float(f.fillPx) for f in fills]
            shown = _once(kind, labelled)
            axes.scatter(times, prices, marker=marker, color=colour, s=36, zorder=3, label=shown)


def _equity(report: Report) -> Figure:
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(12, 6), sharex=True, height_ratios=(3, 1))
    origin = [] if report.span is None else [_time(report.span[0])]  # the curve starts at zero
    times = origin + [_time(p.ts) for p in report.equity]
    equity = [0.0] * len(origin) + [float(p.equity) for p in report.equity]
    drawdown = [0.0] * len(origin) + [-float(p.drawdown) for p in report.equity]
    if report.span is not None and times and _time(report.span[1]) > times[-1]:  # flat to the range's end
        times.append(_time(report.span[1]))
        equity.append(equity[-1])
        drawdown.append(drawdown[-1])
    ccy = report.summary.fee_ccy or ""
    top.step(times, equity, where="post", color="tab:blue")
    top.axhline(0, color="0.6", linewidth=0.8)
    top.set_title(f"{report.machine}: realized PnL, cycle by cycle")
    top.set_ylabel(f"equity {ccy}".strip())
    bottom.fill_between(times, drawdown, step="post", color="tab:red")
    bottom.set_ylabel("drawdown")
    bottom.xaxis_date(tz=UTC)
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
