"""OKX's candle bar names (facts sheet 6.11) and the length of each, for paging by time and finding gaps.

Only bars of a fixed length are listed: the month bars (1M, 3M and their utc twins) vary in length, so
no ts arithmetic can page them or tell a missing one.
"""

from __future__ import annotations

_SECOND_MS = 1_000
_MINUTE_MS = 60 * _SECOND_MS
_HOUR_MS = 60 * _MINUTE_MS
_DAY_MS = 24 * _HOUR_MS

_FIXED = {
    "1s": _SECOND_MS,  # history-candles only
    "1m": _MINUTE_MS,
    "3m": 3 * _MINUTE_MS,
    "5m": 5 * _MINUTE_MS,
    "15m": 15 * _MINUTE_MS,
    "30m": 30 * _MINUTE_MS,
    "1H": _HOUR_MS,
    "2H": 2 * _HOUR_MS,
    "4H": 4 * _HOUR_MS,
}
_ALIGNED = {"6H": 6 * _HOUR_MS, "12H": 12 * _HOUR_MS, "1D": _DAY_MS, "2D": 2 * _DAY_MS, "3D": 3 * _DAY_MS}
_ALIGNED["1W"] = 7 * _DAY_MS

# UTC+8-aligned bars and their "utc" twins (aligned to UTC+0) have the same length.
BAR_MS: dict[str, int] = {**_FIXED, **_ALIGNED, **{f"{name}utc": ms for name, ms in _ALIGNED.items()}}


def bar_ms(bar: str) -> int:
    """The length of `bar` in ms; ValueError naming the known bars for anything else."""
    try:
        return BAR_MS[bar]
    except KeyError:
        raise ValueError(f"unknown bar {bar!r} (one of {', '.join(BAR_MS)})") from None
