"""The market: a seeded random walk per instrument, 1-minute bars built from it, candles and tickers.

Prices are kept as integer counts of the instrument's tickSz, so every price is on the tick and exact.
The walk takes one step per whole second of simulator time. A still path (volatility 0) never moves on
its own and draws one volume per minute instead of one per step, so a stretch in which no resting order
is within reach can be skipped to its last second with the same bars. History before the start is
generated backwards from the start price on demand (a separate seeded stream), so a run reads the same
bars however and whenever it asks for them. The last 30 days are one backward walk, kept whole (the
bars every suite's seeds were chosen on); before them history is made a day at a time: a coarse walk of
day-boundary prices (one draw a day), then each day's minutes from a stream seeded by that day, bridged
between its two boundaries. So months back cost only the days asked for, and only a few are kept.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .decimals import fmt
from .instruments import Instrument
from .tape import CandleTape

MINUTE_MS = 60_000
STEP_MS = 1_000
BAR_MINUTES = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1H": 60, "4H": 240}
MAX_CANDLE_ENTRIES = 1440  # /market/candles reaches only the latest 1,440 bars
FORGET_BATCH_MINUTES = 1440
DAY_MS = 86_400_000
HISTORY_CANDLES_REACH_MS = 3 * 365 * DAY_MS  # /market/history-candles here: 3 years (OKX: to the listing)
RECENT_HISTORY_MINUTES = 30 * 1_440  # one backward walk, kept whole
HISTORY_DAY_MINUTES = 1_440  # before the recent walk, history is made a day at a time
HISTORY_DAYS_KEPT = 8
UTC8_MS = 8 * 3_600_000
FEEDS = ("last", "mark", "index")  # the prices a trigger can watch (OKX's triggerPxType values)


@dataclass
class Bar:
    """One bar; prices in ticks, vol in whole contracts."""

    ts: int
    o: int
    h: int
    l: int  # noqa: E741 - OKX's own name
    c: int
    vol: int

    def merge(self, later: Bar) -> None:
        self.h = max(self.h, later.h)
        self.l = min(self.l, later.l)
        self.c = later.c
        self.vol += later.vol


class PricePath:
    """One instrument's price over time: the walk forward from the start, history backward from it."""

    def __init__(self, inst: Instrument, start_px: Decimal, start_ms: int, seed: int, volatility: Decimal):
        self.inst = inst
        self.ticks = self.to_ticks(start_px)
        self._sigma_per_step = float(volatility) / math.sqrt(MINUTE_MS / STEP_MS)
        self._walk = random.Random(f"{seed}:{inst.inst_id}:walk")
        self._past = random.Random(f"{seed}:{inst.inst_id}:history")
        self._history_seed = f"{seed}:{inst.inst_id}:history"
        self._day_walk = random.Random(f"{self._history_seed}:days")
        self._sigma_per_minute = float(volatility)
        self.still = volatility == 0
        self._first_ms = start_ms - start_ms % MINUTE_MS
        self._forward = [Bar(self._first_ms, self.ticks, self.ticks, self.ticks, self.ticks, 0)]
        self._history: list[Bar] = []  # the recent walk, newest first; each bar closes at the next one's open
        self._day_closes: list[int] = []  # older day k (0 newest) closes at [k] and opens at [k + 1]
        self._days: OrderedDict[int, list[Bar]] = OrderedDict()  # the few history days last asked for
        self.spreads: dict[str, int] = {}  # mark / index: ticks apart from the last price, kept as it moves
        self.tape: CandleTape | None = None  # a replay's bars: the candles of its bar size come from it
        self._forgotten = 0  # forward minutes dropped from the front (forget_before)

    def to_ticks(self, px: Decimal) -> int:
        if px <= 0 or px % self.inst.tick_sz != 0:
            raise ValueError(f"price must be positive and a multiple of tickSz {fmt(self.inst.tick_sz)}")
        return int(px / self.inst.tick_sz)

    def to_px(self, ticks: int) -> Decimal:
        return ticks * self.inst.tick_sz

    @property
    def px(self) -> Decimal:
        return self.to_px(self.ticks)

    def feed(self, name: str) -> Decimal:
        """The price `name` (one of FEEDS) shows now: the last price, or mark / index at their spread from it
        (never below one tick)."""
        return self.to_px(max(1, self.ticks + self.spreads.get(name, 0)))

    def set_feed(self, name: str, px: Decimal) -> None:
        """Put mark or index at `px` (on the tick); it keeps that distance from the last price as it moves."""
        if name not in FEEDS[1:]:
            raise ValueError(f"only {' and '.join(FEEDS[1:])} can be set apart from the last price")
        self.spreads[name] = self.to_ticks(px) - self.ticks

    def step(self, t_ms: int) -> tuple[int, int]:
        """One random step (none on a still path); returns the (low, high) range traded, in ticks."""
        if self.still:
            return self.move_to(t_ms, self.ticks)
        delta = round(self._walk.gauss(0.0, self.ticks * self._sigma_per_step))
        return self.move_to(t_ms, max(1, self.ticks + delta), self._walk.randint(0, 20))

    def move_to(self, t_ms: int, ticks: int, vol: int = 0) -> tuple[int, int]:
        """Trade from the current price to `ticks` at t_ms; returns the (low, high) range traded."""
        before = self.ticks
        self.ticks = ticks
        minute = t_ms - t_ms % MINUTE_MS
        last = self._forward[-1]
        while last.ts < minute:
            minute_vol = self._walk.randint(0, 1200) if self.still else 0
            last = Bar(last.ts + MINUTE_MS, last.c, last.c, last.c, last.c, minute_vol)
            self._forward.append(last)
        last.merge(Bar(minute, ticks, ticks, ticks, ticks, vol))
        return min(before, ticks), max(before, ticks)

    def bar_1m(self, ts: int) -> Bar | None:
        if ts >= self._first_ms:
            index = (ts - self._first_ms) // MINUTE_MS - self._forgotten
            return self._forward[index] if 0 <= index < len(self._forward) else None
        back = (self._first_ms - ts) // MINUTE_MS - 1  # 0: the minute just before the start
        if back < RECENT_HISTORY_MINUTES:
            self._extend_history(ts)
            return self._history[back]
        back -= RECENT_HISTORY_MINUTES
        day = self._history_day(back // HISTORY_DAY_MINUTES)
        return day[HISTORY_DAY_MINUTES - 1 - back % HISTORY_DAY_MINUTES]

    def forget_before(self, ts: int) -> None:
        """Drop the forward minutes older than `ts` (a long replay keeps only its last days); they are
        dropped in batches, so the cost per call stays small."""
        drop = (ts - self._forward[0].ts) // MINUTE_MS
        if drop > FORGET_BATCH_MINUTES and drop < len(self._forward):
            del self._forward[:drop]
            self._forgotten += drop

    @property
    def newest_minute(self) -> int:
        return self._forward[-1].ts

    def _extend_history(self, oldest_ms: int) -> None:
        while self._first_ms - len(self._history) * MINUTE_MS > oldest_ms:
            close = self._history[-1].o if self._history else self._forward[0].o
            sigma = close * self._sigma_per_minute
            open_ = max(1, close - round(self._past.gauss(0.0, sigma)))
            high = max(open_, close) + round(abs(self._past.gauss(0.0, sigma / 2)))
            low = max(1, min(open_, close) - round(abs(self._past.gauss(0.0, sigma / 2))))
            ts = self._first_ms - (len(self._history) + 1) * MINUTE_MS
            self._history.append(Bar(ts, open_, high, low, close, self._past.randint(0, 1200)))

    def _history_day(self, k: int) -> list[Bar]:
        """Older history day k (0 is the day before the recent walk), oldest minute first."""
        day = self._days.get(k)
        if day is not None:
            self._days.move_to_end(k)
            return day
        if not self._day_closes:  # the days go on from where the recent walk began
            self._extend_history(self._first_ms - RECENT_HISTORY_MINUTES * MINUTE_MS)
            self._day_closes.append(self._history[-1].o)
        while len(self._day_closes) <= k + 1:  # one draw a day: the walk of the days' boundaries
            close = self._day_closes[-1]
            sigma = close * self._sigma_per_minute * math.sqrt(HISTORY_DAY_MINUTES)
            self._day_closes.append(max(1, close - round(self._day_walk.gauss(0.0, sigma))))
        day = self._bridge(k, self._day_closes[k + 1], self._day_closes[k])
        self._days[k] = day
        if len(self._days) > HISTORY_DAYS_KEPT:
            self._days.popitem(last=False)
        return day

    def _bridge(self, k: int, open_: int, close: int) -> list[Bar]:
        """Day k's minute bars from its own seeded stream: a walk pinned to `open_` and `close`."""
        rng = random.Random(f"{self._history_seed}:{k}")
        sigma = open_ * self._sigma_per_minute
        walk = [0.0]
        for _ in range(HISTORY_DAY_MINUTES):
            walk.append(walk[-1] + rng.gauss(0.0, sigma))
        drift = (walk[-1] - (close - open_)) / HISTORY_DAY_MINUTES
        points = [max(1, open_ + round(w - i * drift)) for i, w in enumerate(walk)]
        points[-1] = close
        first_ts = self._first_ms - (RECENT_HISTORY_MINUTES + (k + 1) * HISTORY_DAY_MINUTES) * MINUTE_MS
        bars = []
        for i in range(HISTORY_DAY_MINUTES):
            o, c = points[i], points[i + 1]
            high = max(o, c) + round(abs(rng.gauss(0.0, sigma / 2)))
            low = max(1, min(o, c) - round(abs(rng.gauss(0.0, sigma / 2))))
            bars.append(Bar(first_ts + i * MINUTE_MS, o, high, low, c, rng.randint(0, 1200)))
        return bars

    def bar(self, ts: int, minutes: int) -> Bar:
        """The bar of `minutes` starting at ts, aggregated from the 1-minute bars that exist."""
        first = self.bar_1m(ts)
        if first is None:
            raise ValueError("no bar at that time")
        agg = Bar(ts, first.o, first.h, first.l, first.c, first.vol)
        for m in range(1, minutes):
            later = self.bar_1m(ts + m * MINUTE_MS)
            if later is None:
                break
            agg.merge(later)
        return agg

    def candles(
        self, bar: str, now_ms: int, after: int | None, before: int | None, limit: int, history: bool = False
    ) -> list[list[str]]:
        """OKX candle rows, newest first: [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm].

        The latest 1,440 bars; with `history` (/market/history-candles) also those of the last 3 years.
        """
        minutes = BAR_MINUTES[bar]
        if self.tape is not None and self.tape.bar == bar:
            return self.tape.rows(now_ms, after, before, limit)
        span = minutes * MINUTE_MS
        newest = self.newest_minute - self.newest_minute % span
        entries = max(MAX_CANDLE_ENTRIES, HISTORY_CANDLES_REACH_MS // span) if history else MAX_CANDLE_ENTRIES
        oldest = newest - (entries - 1) * span
        ts = newest if after is None else min(newest, (after - 1) - (after - 1) % span)
        rows: list[list[str]] = []
        while len(rows) < limit and ts >= oldest and (before is None or ts > before):
            rows.append(self._candle_row(self.bar(ts, minutes), confirmed=ts + span <= now_ms))
            ts -= span
        return rows

    def _candle_row(self, bar: Bar, confirmed: bool) -> list[str]:
        vol_ccy = bar.vol * self.inst.ct_val
        return [
            str(bar.ts),
            fmt(self.to_px(bar.o)),
            fmt(self.to_px(bar.h)),
            fmt(self.to_px(bar.l)),
            fmt(self.to_px(bar.c)),
            str(bar.vol),
            fmt(vol_ccy),
            fmt(vol_ccy * self.to_px(bar.c)),
            "1" if confirmed else "0",
        ]

    def ticker(self, now_ms: int) -> dict[str, Any]:
        newest = self.newest_minute
        day = self.bar(newest - DAY_MS + MINUTE_MS, MAX_CANDLE_ENTRIES)
        sod0 = self.bar_1m(now_ms - now_ms % DAY_MS)
        sod8 = self.bar_1m(now_ms - (now_ms + UTC8_MS) % DAY_MS)
        vol_ccy = day.vol * self.inst.ct_val
        return {
            "instType": "SWAP",
            "instId": self.inst.inst_id,
            "last": fmt(self.px),
            "lastSz": fmt(self.inst.lot_sz),
            "askPx": fmt(self.px),
            "askSz": "100",
            "bidPx": fmt(self.px),
            "bidSz": "100",
            "open24h": fmt(self.to_px(day.o)),
            "high24h": fmt(self.to_px(day.h)),
            "low24h": fmt(self.to_px(day.l)),
            "volCcy24h": fmt(vol_ccy),
            "vol24h": str(day.vol),
            "sodUtc0": fmt(self.to_px(sod0.o if sod0 else self.ticks)),
            "sodUtc8": fmt(self.to_px(sod8.o if sod8 else self.ticks)),
            "ts": str(now_ms),
        }


class Market:
    """All instruments' price paths, stepped together once per whole second of simulator time.

    `busy()` says whether a step may do more than walk (a resting order is within reach); while it is
    false and every path is still, the steps before the last whole second change nothing and are skipped.
    """

    def __init__(self, paths: dict[str, PricePath], start_ms: int, busy: Callable[[], bool]) -> None:
        self.paths = paths
        self._stepped_ms = start_ms
        self._busy = busy
        self._still = all(path.still for path in paths.values())

    def step_times(self, now_ms: int) -> Iterator[int]:
        """The whole-second instants not yet stepped, up to now (idle still stretches: only the last)."""
        t = (self._stepped_ms // STEP_MS + 1) * STEP_MS
        while t <= now_ms:
            if self._still and not self._busy():
                t = max(t, now_ms - now_ms % STEP_MS)
            self._stepped_ms = t
            yield t
            t += STEP_MS
        self._stepped_ms = max(self._stepped_ms, now_ms)
