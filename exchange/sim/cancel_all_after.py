"""OKX's Cancel All After (a dead man's switch): timers that cancel pending orders unless refreshed in time.

One timer per tag: a tag-level timer covers the pending orders placed with that `tag`, the account-level
one (no tag, kept here as "") every pending order. Arming a timer again before it runs out re-arms it; a
timeOut of 0 disarms it. At most 20 tag-level timers are live at once (51071). A timer runs out on the
simulator's clock, at the first matching step at or after its trigger time, and is gone once it has.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError

MAX_TAG_TIMERS = 20  # live tag-level timers per (sub-)account
ACCOUNT_LEVEL = ""  # the tag of the account-level timer


class CancelAllAfter:
    """The account's live Cancel All After timers: tag -> trigger time (ms, simulator clock)."""

    def __init__(self) -> None:
        self._triggers: dict[str, int] = {}

    @property
    def armed(self) -> bool:
        return bool(self._triggers)

    def arm(self, tag: str, timeout_s: int, now_ms: int) -> int:
        """Arm (or re-arm) the timer of `tag` to run out `timeout_s` from now; 0 disarms it. Returns the
        trigger time, 0 when disarmed; a 21st live tag-level timer raises ApiError 51071."""
        if timeout_s == 0:
            self._triggers.pop(tag, None)
            return 0
        tag_level = sum(1 for armed in self._triggers if armed != ACCOUNT_LEVEL)
        if tag != ACCOUNT_LEVEL and tag not in self._triggers and tag_level >= MAX_TAG_TIMERS:
            raise ApiError("51071")
        self._triggers[tag] = now_ms + timeout_s * 1000
        return self._triggers[tag]

    def take_due(self, t_ms: int) -> list[str]:
        """The tags whose timers have run out by `t_ms`, in trigger order; they are disarmed."""
        due = sorted((trigger, tag) for tag, trigger in self._triggers.items() if trigger <= t_ms)
        for _, tag in due:
            del self._triggers[tag]
        return [tag for _, tag in due]

    def to_okx(self) -> list[dict[str, Any]]:
        """The live timers as /sim/state shows them, in OKX's field names."""
        return [{"tag": tag, "triggerTime": str(trigger)} for tag, trigger in sorted(self._triggers.items())]
