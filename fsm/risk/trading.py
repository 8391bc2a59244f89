"""The account's trading state as a pure function of (the account journal's operator marks, the
machines' realized PnL by exchange time, the limits, exchange time now).

`halt` sets HALTED and `reduce` REDUCING until `resume --account`; max_daily_loss (realized, the UTC day,
every machine) sets REDUCING until the next UTC day or a resume; max_drawdown (from the peak of the
account's realized equity, never from the start: Hummingbot #2969) sets REDUCING until a resume. A resume
starts both windows afresh at its own time, so a loss already taken does not re-trip the state at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from fsm.spec.limits import Limits

DAY_MS = 86_400_000
ZERO = Decimal(0)
CENT = Decimal("0.01")
MarkCommand = Literal["halt", "reduce", "resume"]
MARK_COMMANDS: tuple[MarkCommand, ...] = ("halt", "reduce", "resume")
RESUME_HINT = "okx-fsm resume --account"


class TradingState(Enum):
    """The account's trading state: only ACTIVE lets a request add exposure."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


@dataclass(frozen=True)
class Mark:
    """One operator record of the account journal: what was asked, at what exchange time."""

    command: MarkCommand
    ts: int


@dataclass(frozen=True)
class Realized:
    """Realized PnL (net of fees) that one fill made, at the fill's exchange time."""

    ts: int
    pnl: Decimal


@dataclass(frozen=True)
class Trading:
    """The account's trading state, what set it (with the numbers), since when, and what clears it."""

    state: TradingState = TradingState.ACTIVE
    set_by: str = ""
    since: int | None = None  # exchange ms of the mark or the fill that set it
    clears: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """What a change is judged by: the same state set by the same cause is not a change."""
        return (self.state.value, self.set_by.split(":")[0], self.clears)

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "set_by": self.set_by, "since": self.since, "clears": self.clears}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Trading:
        return cls(TradingState(raw["state"]), str(raw["set_by"]), raw.get("since"), str(raw["clears"]))

    def __str__(self) -> str:
        if self.state is TradingState.ACTIVE:
            return TradingState.ACTIVE.value
        return f"{self.state.value} (set by {self.set_by}; clears: {self.clears})"


ACTIVE = Trading()


def _shown(value: Decimal) -> Decimal:
    """Money as a reason shows it: to 0.01 quote, for reading only (the limits compare exact values)."""
    return value.quantize(CENT)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def _operator(marks: Sequence[Mark]) -> Trading | None:
    """The newest operator mark's state, unless a resume came after it. The newest is the last in the
    journal's order, not the largest ts: two marks may share an exchange millisecond."""
    last = marks[-1] if marks else None
    if last is None or last.command == "resume":
        return None
    state = TradingState.HALTED if last.command == "halt" else TradingState.REDUCING
    return Trading(state, f"operator {last.command}", last.ts, RESUME_HINT)


def _daily_loss(realized: Sequence[Realized], limit: Decimal, start: int, now_ms: int) -> Trading | None:
    """REDUCING from the fill that took the day's realized loss (since `start`) to `limit`."""
    day_start = now_ms - now_ms % DAY_MS
    total = ZERO
    for r in realized:
        if r.ts < day_start or r.ts <= start or r.ts > now_ms:
            continue
        total += r.pnl
        if -total >= limit:
            next_day = _day(day_start + DAY_MS)
            why = f"max_daily_loss {limit}: realized {_shown(total)} on {_day(day_start)} (UTC)"
            return Trading(TradingState.REDUCING, why, r.ts, f"{next_day}T00:00Z, or {RESUME_HINT}")
    return None


def _drawdown(realized: Sequence[Realized], limit: Decimal, start: int, now_ms: int) -> Trading | None:
    """REDUCING from the fill that took realized equity `limit` below its peak since `start`."""
    equity, peak = ZERO, ZERO
    for r in realized:
        if r.ts > now_ms:
            break
        equity += r.pnl
        if r.ts <= start:
            peak = equity  # a resume starts the peak afresh at the equity it found
            continue
        peak = max(peak, equity)
        if peak - equity >= limit:
            why = (
                f"max_drawdown {limit}: realized equity {_shown(equity)}, {_shown(peak - equity)} below "
                f"its peak {_shown(peak)}"
            )
            return Trading(TradingState.REDUCING, why, r.ts, RESUME_HINT)
    return None


def evaluate(marks: Iterable[Mark], realized: Iterable[Realized], limits: Limits, now_ms: int) -> Trading:
    """The trading state now: the operator's halt or reduce first, then max_drawdown, then
    max_daily_loss; ACTIVE when none holds."""
    marks = list(marks)
    by_operator = _operator(marks)
    if by_operator is not None:
        return by_operator
    start = max((m.ts for m in marks if m.command == "resume"), default=-1)
    ordered = sorted(realized, key=lambda r: r.ts)
    if limits.max_drawdown is not None:
        found = _drawdown(ordered, limits.max_drawdown, start, now_ms)
        if found is not None:
            return found
    if limits.max_daily_loss is not None:
        found = _daily_loss(ordered, limits.max_daily_loss, start, now_ms)
        if found is not None:
            return found
    return ACTIVE
