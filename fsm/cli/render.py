"""How the CLI prints: consoles, tables and the formatting of values, shared by every view.

Output is rich on a terminal and plain (no colour, no animation, simple rules) when piped or when
NO_COLOR is set. The views of the state are in render_status, those of the other reads in render_reads.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from fsm.cli.command import closed_pipe

PIPED_WIDTH = 120
MONEY = ("px", "sz", "accFillSz", "avgPx", "fillPx", "fillSz", "fee", "pos", "upl", "markPx", "liqPx")


class _Console(Console):
    """rich's console, except that a closed pipe ends the command as a success (rich exits 1)."""

    def on_broken_pipe(self) -> None:
        closed_pipe()


def make_console(stderr: bool = False) -> Console:
    """A console for stdout (or stderr): plain when not a terminal or when NO_COLOR is set."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return _Console(
        stderr=stderr,
        highlight=False,
        no_color="NO_COLOR" in os.environ or not terminal,
        width=None if terminal or "COLUMNS" in os.environ else PIPED_WIDTH,
    )


def fancy(console: Console) -> bool:
    """Colour, boxes and live displays only on a terminal without NO_COLOR."""
    return console.is_terminal and not console.no_color


def new_table(console: Console, *columns: str, title: str | None = None, right: Sequence[str] = ()) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        box=box.ROUNDED if fancy(console) else box.SIMPLE,
        header_style="bold" if fancy(console) else "",
        title_style="bold" if fancy(console) else "",
    )
    for col in columns:  # ids and amounts wrap rather than being cut short
        table.add_column(col, justify="right" if col in right else "left", overflow="fold")
    return table


def cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def compact(value: Any) -> str:
    """A changed value: scalars as they are, a record as its non-empty fields."""
    if isinstance(value, Mapping):
        return " ".join(f"{k}={compact(v)}" for k, v in value.items() if v not in (None, "", {}, []))
    return cell(value)


def iso(ts_ms: int | None) -> str:
    if ts_ms is None:
        return "-"
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def duration(ms: int) -> str:
    """A span as "1h 02m 05s" (sign dropped)."""
    s = abs(ms) // 1000
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h {m:02d}m {sec:02d}s" if h else f"{m}m {sec:02d}s"


def countdown(ms: int | None) -> str:
    if ms is None:
        return ""
    return f"in {duration(ms)}" if ms > 0 else f"passed {duration(ms)} ago"


def print_json(doc: Any) -> None:
    print(json.dumps(doc, indent=2, sort_keys=True, default=str))


def body_text(body: Any) -> str:
    """A request body as sent (keys in wire order), one object a line."""
    if isinstance(body, list):
        return "[\n" + ",\n".join(f"  {json.dumps(item)}" for item in body) + "\n]"
    return json.dumps(body)
