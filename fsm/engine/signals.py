"""Entry signals: `robust_twap` (median typical price of confirmed candles) and `file` (user research).

Both are pure functions of their inputs; the tick decides when candles are fetched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from statistics import median
from typing import Any

from exchange import Candle
from fsm.engine.state import Signal
from fsm.errors import EngineError, ExitStatus

BAR_MS: dict[str, int] = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1H": 3_600_000,
    "4H": 14_400_000,
}


class SignalFileError(EngineError):
    """The `file` provider's JSON is missing fields or malformed."""

    exit_code = ExitStatus.USAGE


def bar_ms(bar: str) -> int:
    return BAR_MS[bar]


def newest_closed_bar_open(now_ms: int, bar: str) -> int:
    """Open time of the newest bar that has fully closed at exchange time `now_ms`."""
    step = bar_ms(bar)
    return (now_ms // step) * step - step


def typical_price(candle: Candle) -> Decimal:
    return (candle.h + candle.l + candle.c) / Decimal(3)


def robust_twap_signal(
    candles: Sequence[Candle], *, bar: str, lookback: int, entry_filter: str
) -> Signal | None:
    """The signal on the newest confirmed candle, or None.

    Reference price = median of the typical prices (h+l+c)/3 of the newest `lookback` confirmed
    candles. With `close_above_ref` the newest close must be at or above the reference (the market
    sits above a buy ladder), with `close_below_ref` at or below it (below a sell ladder).
    """
    confirmed = sorted((c for c in candles if c.confirm), key=lambda c: c.ts)[-lookback:]
    if len(confirmed) < lookback:
        return None
    newest = confirmed[-1]
    ref = median(typical_price(c) for c in confirmed).normalize()  # no trailing zeros on disk
    if entry_filter == "close_above_ref" and newest.c < ref:
        return None
    if entry_filter == "close_below_ref" and newest.c > ref:
        return None
    return Signal(
        provider="robust_twap",
        candle_ts=newest.ts,
        close_ts=newest.ts + bar_ms(bar),
        ref_px=ref,
        close=newest.c,
        lookback=lookback,
    )


def file_signal(path: Path, *, bar: str) -> Signal | None:
    """A signal written by the user's own research code.

    The file holds `{"candle_ts": <ms>, "ref_px": "<decimal>", "close": "<decimal>"}`; a missing file
    means no signal yet.
    """
    if not path.exists():
        return None
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SignalFileError(f"{path}: signal file is not valid JSON ({exc})") from exc
    if not isinstance(raw, Mapping):
        raise SignalFileError(f"{path}: signal file must hold a JSON object")
    try:
        candle_ts = int(raw["candle_ts"])
        ref_px = Decimal(str(raw["ref_px"]))
        close = Decimal(str(raw.get("close", raw["ref_px"])))
    except (KeyError, ValueError, TypeError, InvalidOperation) as exc:
        raise SignalFileError(
            f"{path}: signal file needs candle_ts (int ms) and ref_px (decimal string): {exc!r}"
        ) from exc
    if not ref_px.is_finite() or ref_px <= 0:
        raise SignalFileError(f"{path}: ref_px must be a positive decimal, got {raw['ref_px']!r}")
    return Signal(
        provider="file",
        candle_ts=candle_ts,
        close_ts=candle_ts + bar_ms(bar),
        ref_px=ref_px,
        close=close,
        lookback=0,
    )
