"""A candle tape: the bars of one size that a replay feeds the simulator, served as its candles.

A replay drives the price through historical bars. The candles of the replayed bar size must then be
those bars (with their own volumes), as far as the replay has come and no further: each closed bar is
fed once its close time is reached, and the bar still forming shows only the prices traded so far.
Missing bars (a gap in the file) stay missing: nothing is made up for them. Only the newest `keep`
bars are kept (what /market/candles reaches), so a long replay's memory stays flat.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence
from decimal import Decimal

from .decimals import fmt


class CandleTape:
    def __init__(self, bar: str, span_ms: int, keep: int) -> None:
        self.bar = bar
        self.span_ms = span_ms
        self._closed: deque[list[str]] = deque(maxlen=keep)
        self._forming: list[Decimal] | None = None  # open, high, low, close traded so far
        self._forming_ts: int | None = None

    def feed(self, row: Sequence[str]) -> None:
        """A closed bar, in OKX's row shape (confirm "1"), newer than every bar fed before."""
        ts = int(row[0])
        if self._closed and ts <= int(self._closed[-1][0]):
            raise ValueError(f"bar {ts} is not newer than the last bar fed ({self._closed[-1][0]})")
        if ts % self.span_ms:
            raise ValueError(f"bar {ts} does not start on a {self.bar} boundary")
        self._closed.append(list(row))
        if self._forming_ts is not None and self._forming_ts <= ts:
            self._forming, self._forming_ts = None, None

    def trade(self, now_ms: int, px: Decimal) -> None:
        """The market traded at `px`: the forming bar (the one `now_ms` falls in) takes it."""
        ts = now_ms - now_ms % self.span_ms
        if self._forming is None or self._forming_ts != ts:
            self._forming, self._forming_ts = [px, px, px, px], ts
            return
        o, h, low, _ = self._forming
        self._forming = [o, max(h, px), min(low, px), px]

    def rows(self, now_ms: int, after: int | None, before: int | None, limit: int) -> list[list[str]]:
        """OKX candle rows, newest first: the forming bar (confirm "0") if any, then the closed ones;
        `after` and `before` page as OKX's do (older than `after`, newer than `before`)."""
        candidates: list[list[str]] = []
        if self._forming is not None and self._forming_ts is not None and self._forming_ts <= now_ms:
            candidates.append([str(self._forming_ts), *(fmt(p) for p in self._forming), "0", "0", "0", "0"])
        out: list[list[str]] = []
        for row in itertools.chain(candidates, reversed(self._closed)):
            ts = int(row[0])
            if len(out) >= limit or (before is not None and ts <= before):
                break
            if after is None or ts < after:
                out.append(row)
        return out
