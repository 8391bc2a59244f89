"""The runner's dead man's switch: OKX's Cancel All After, kept armed for the tag our entries carry.

While the runner works, each round re-arms a tag-level Cancel All After (`timeOut` seconds) for
ENTRY_TAG, so a runner that dies, hangs or loses the network has its working entry orders cancelled by
OKX itself; the trader's own orders and our stops (algo orders, which never carry the tag) are not ours
to cancel and stay. A wait longer than two thirds of `timeOut` re-arms it too, so a long `--interval`
never lets it run out under a healthy runner. A clean stop disarms it (`timeOut` 0). Never the account
level: that would cancel every pending order of the account.

A failed arm is logged and tried again next round: the runner goes on (the switch is a backstop, the
engine's own expiry and cancels still run).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from exchange import OkxApiError, OkxError, OkxRateLimited
from fsm.engine.ladder import ENTRY_TAG

if TYPE_CHECKING:
    from exchange import OkxClient

log = logging.getLogger("okx_fsm.run")

OFF = 0
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 10, 120  # OKX's range for timeOut
MIN_SPACING_S = 1.0  # OKX takes one request a second per tag: a faster round does not re-arm
DISARM_TRIES = 3  # a disarm refused for the rate (OKX counts the second at its end) is asked again
WAIT_REFRESH = 2 / 3  # within a long wait, re-arm once this share of timeOut has passed


def timeout_problem(seconds: int) -> str | None:
    """Why `seconds` cannot be a --dead-man value (None when it can): 0 (off) or OKX's 10-120."""
    if seconds == OFF or MIN_TIMEOUT_S <= seconds <= MAX_TIMEOUT_S:
        return None
    return f"{seconds} is not 0 (off) or {MIN_TIMEOUT_S}-{MAX_TIMEOUT_S} (seconds)"


class DeadMan:
    """Arms, refreshes and disarms the tag-level Cancel All After of ENTRY_TAG on an armed client."""

    def __init__(self, client: OkxClient, timeout_s: int, clock: Callable[[], float]) -> None:
        problem = timeout_problem(timeout_s)
        if problem is not None or timeout_s == OFF:
            raise ValueError(problem or "a switch that is off is not made")
        self._client = client
        self.timeout_s = timeout_s
        self._clock = clock
        self._armed_at: float | None = None
        self._asked = False  # an arm was sent (and may have applied): a clean stop disarms
        self._refused: str | None = None  # the code of the last refusal (logged once until it changes)

    def refresh(self) -> None:
        """Each round: re-arm, unless the last arm is under a second old."""
        if self._armed_at is None or self._clock() - self._armed_at >= MIN_SPACING_S:
            self._arm(self.timeout_s)

    def refresh_in_wait(self) -> None:
        """Within a wait: re-arm only once two thirds of timeOut have passed since the last arm."""
        if self._armed_at is None or self._clock() - self._armed_at >= self.timeout_s * WAIT_REFRESH:
            self._arm(self.timeout_s)

    def disarm(self) -> None:
        """On a clean stop: timeOut 0, so OKX cancels nothing the trader now tends by hand (nothing to
        do when it was never armed). Refused for the rate (the arm just before may land within OKX's
        second at its end), it is asked again a second later, a few times: the runner is leaving."""
        for _ in range(DISARM_TRIES):
            if not self._asked:
                return
            if not self._arm(OFF):
                time.sleep(MIN_SPACING_S)

    def _arm(self, timeout_s: int) -> bool:
        """Ask OKX; False only when OKX refused it for the rate (worth asking again)."""
        what = "disarm" if timeout_s == OFF else f"arm ({timeout_s} s)"
        self._asked = self._asked or timeout_s != OFF
        try:
            answer = self._client.cancel_all_after(timeout_s, ENTRY_TAG)
        except OkxApiError as exc:  # refused: said once per code, asked again next round
            if exc.code != self._refused:
                log.error(
                    "dead man's switch: OKX refused to %s Cancel All After for tag %s: %s %s; entries "
                    "work without it (--dead-man 0 stops asking)",
                    what,
                    ENTRY_TAG,
                    exc.code,
                    exc.msg,
                )
            self._refused = exc.code
            return not isinstance(exc, OkxRateLimited)
        except OkxError as exc:  # ambiguous or the network: arming is idempotent, the next round asks again
            log.warning("dead man's switch: %s Cancel All After for tag %s: %s", what, ENTRY_TAG, exc)
            return True
        self._refused = None
        self._armed_at = None if timeout_s == OFF else self._clock()
        self._asked = timeout_s != OFF
        if timeout_s == OFF:
            log.info("dead man's switch disarmed (tag %s)", ENTRY_TAG)
        elif not answer.armed:
            log.warning("dead man's switch: OKX answered triggerTime 0 to an arm (tag %s)", ENTRY_TAG)
        return True
