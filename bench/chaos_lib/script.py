"""The seeded market script: what the driver does to the venue before each tick.

The move is a function of the seed, the step number, the cycle number and the ladder state read
from the state file (the engine's plan is used only to steer the market, never to judge).

  idle              signal: advance to 2 s before the next 15m boundary, trade the market up
                    10 (+10 per consecutive clean idle tick that gave no signal, at most +60), advance
                    3 s so that candle closes above the robust reference. A `cross` cycle then trades
                    down 0.45 % so rung 1 would take liquidity (post-only cancel). After an idle tick
                    that was killed or failed, only advance 1 s (the candle is still new).
  intent_rendered   advance 1-5 s.
  entries_open,     the cycle's plan, once: fill_all (trade to the lowest rung - 3, advance 5 s),
  partially_filled  fill_top (trade to rung 1 - 1 for one step, then to rung 1 + 40: a partial),
                    expire and cross (trade to rung 1 + 40), hand_cancel (cancel a resting rung in
                    the app, then rung 1 + 40). Afterwards: before the expiry, jump past it (60 %) or
                    advance 60-600 s; past it, advance 3-40 s (cancel retries, async cancels).
  cancelling        advance 3-45 s.
  filled            in a cycle chosen to be stopped (STOP_P, seeded), once OKX shows its stop live: move
                    the price the stop watches through its trigger (half the time the mark price alone,
                    the last price untouched: a stop on mark must fire on mark), advance 1 s. Otherwise,
                    before the exit is due, jump past it (70 %) or advance 300-1800 s; then 2-40 s.
  closed            advance 1 s.

Besides, on each step (seeded): a hand trade (market buy 0.01-0.05 long, clOrdId `hand<n>`), a
cancel in the app of one resting rung, a cancel in the app of our live stop, or a jump of 2-5 hours
(past the 2 h retention of canceled orders) instead of the state's move. Each signal puts the mark
price back on the last price.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from bench.chaos_lib.sim import HAND_PREFIX, PREFIX, SimProcess

BAR_MS = 900_000
TICK_SZ = Decimal("0.01")
PLANS = ("fill_all", "fill_top", "expire", "cross", "hand_cancel")
PLAN_WEIGHTS = (45, 20, 15, 10, 10)
STOP_P = 0.4  # the share of cycles whose stop the market runs through once the entry phase is over


def _px(value: Decimal) -> str:
    return format(value.quantize(TICK_SZ, rounding=ROUND_DOWN), "f")


@dataclass
class MarketScript:
    """The seeded script; it remembers which cycles had their plan applied and how many events it made."""

    seed: int
    hand_p: float = 0.04
    user_cancel_p: float = 0.04
    hours_p: float = 0.03
    applied: set[str] = field(default_factory=set)
    idle_misses: int = 0
    signalled: bool = False  # the previous step made a signal candle
    hand_trades: int = 0
    user_cancels: int = 0
    hour_jumps: int = 0
    stop_cancels: int = 0  # our live stop cancelled in the app
    stop_runs: int = 0  # the market run through our live stop's trigger
    admin_refused: int = 0

    def plan(self, cycle_no: int) -> str:
        return random.Random(f"{self.seed}:cycle:{cycle_no}").choices(PLANS, PLAN_WEIGHTS)[0]

    def stopped(self, cycle_no: int) -> bool:
        """Whether this cycle's stop is to be run through."""
        return random.Random(f"{self.seed}:stop:{cycle_no}").random() < STOP_P

    def step(
        self,
        sim: SimProcess,
        step_no: int,
        ladder: dict[str, Any] | None,
        venue: dict[str, Any],
        *,
        last_tick_clean: bool,
        last_state: str | None,
        events: bool = True,
        settle: bool = False,
    ) -> None:
        """Move the venue before tick `step_no`."""
        rng = random.Random(f"{self.seed}:step:{step_no}")
        state = str(ladder.get("state")) if ladder else "idle"
        cycle_no = int(ladder.get("cycles_completed", 0)) if ladder else 0
        if events:
            if rng.random() < self.hand_p:
                self.hand_trades += 1
                self._admin(
                    sim.user_order,
                    "buy",
                    rng.choice(["0.01", "0.02", "0.05"]),
                    f"{HAND_PREFIX}{self.hand_trades}",
                )
            resting = [
                o
                for o in venue.get("orders", [])
                if str(o.get("clOrdId", "")).startswith(PREFIX)
                and o.get("ordType") == "post_only"
                and o.get("state") in ("live", "partially_filled")
            ]
            if resting and rng.random() < self.user_cancel_p:
                self.user_cancels += 1
                self._admin(sim.user_cancel, str(rng.choice(resting)["ordId"]))
            stops = _live_stops(venue)
            if stops and rng.random() < self.user_cancel_p:
                self.stop_cancels += 1
                self._admin(sim.user_cancel_algo, str(rng.choice(stops)["algoId"]))
            if rng.random() < self.hours_p:
                self.hour_jumps += 1
                self.signalled = False
                sim.advance(rng.randint(2, 5) * 3600 + rng.randint(0, 600))
                return
        now = int(venue["clock_ms"])
        again = self.signalled and last_state == "idle"
        self.signalled = False
        if state == "idle":
            if settle:
                return  # no new candle: the settle must not start a cycle
            self.signalled = True
            if again and not last_tick_clean:
                sim.advance(1)
                return
            self.idle_misses = self.idle_misses + 1 if again else 0
            self._signal(sim, now, min(self.idle_misses, 5), self.plan(cycle_no) == "cross")
        elif state == "intent_rendered":
            sim.advance(rng.randint(1, 5))
        elif state in ("entries_open", "partially_filled"):
            self._entries(sim, rng, ladder or {}, venue, now, cycle_no, settle)
        elif state == "cancelling":
            sim.advance(rng.randint(3, 45))
        elif state == "filled" and self._run_stop(sim, rng, venue, cycle_no, settle):
            return
        elif state == "filled":
            due = (ladder or {}).get("exit_due_ts")
            if due is not None and now < int(due):
                if settle or rng.random() < 0.7:
                    sim.advance((int(due) - now) // 1000 + rng.randint(1, 30))
                else:
                    sim.advance(rng.randint(300, 1800))
            else:
                sim.advance(rng.randint(2, 40))
        else:  # closed, or a state this script does not know
            sim.advance(1)

    def _run_stop(
        self, sim: SimProcess, rng: random.Random, venue: dict[str, Any], cycle_no: int, settle: bool
    ) -> bool:
        """In a cycle chosen to be stopped, once: move the price our live stop watches through its trigger."""
        key = f"stop:{cycle_no}"
        stops = _live_stops(venue)
        if settle or key in self.applied or not stops or not self.stopped(cycle_no):
            return False
        self.applied.add(key)
        self.stop_runs += 1
        stop = stops[0]
        through = _px(Decimal(stop["slTriggerPx"]) - 1)
        if stop.get("slTriggerPxType") == "mark" and rng.random() < 0.5:
            sim.set_price(mark=through)  # the mark alone: the last price never reaches the trigger
        else:
            sim.set_price(through)
        sim.advance(1)
        return True

    def _signal(self, sim: SimProcess, now: int, misses: int, cross: bool) -> None:
        to_boundary = BAR_MS - now % BAR_MS
        if to_boundary < 3000:
            to_boundary += BAR_MS
        px = Decimal(sim.advance((to_boundary - 2000) // 1000)["px"])
        up = _px(px + 10 + 10 * misses)
        sim.set_price(up, mark=up)  # the mark back on the last price (a stop run may have moved it apart)
        close = Decimal(sim.advance(3)["px"])
        if cross:
            sim.set_price(_px(close * Decimal("0.9955")))

    def _entries(
        self,
        sim: SimProcess,
        rng: random.Random,
        ladder: dict[str, Any],
        venue: dict[str, Any],
        now: int,
        cycle_no: int,
        settle: bool,
    ) -> None:
        prices = sorted((Decimal(r["px"]) for r in ladder.get("rungs", []) if r.get("px")), reverse=True)
        cycle_id = str(ladder.get("cycle_id"))
        if prices and cycle_id not in self.applied and not settle:
            self.applied.add(cycle_id)
            plan, top = self.plan(cycle_no), prices[0]
            if plan == "fill_all":
                sim.set_price(_px(prices[-1] - 3))
                sim.advance(5)
                return
            if plan == "fill_top":
                sim.set_price(_px(top - 1))
            if plan == "hand_cancel":
                ours = [
                    o
                    for o in venue.get("orders", [])
                    if o.get("clOrdId") in {r.get("clOrdId") for r in ladder.get("rungs", [])}
                    and o.get("state") in ("live", "partially_filled")
                ]
                if ours:
                    self.user_cancels += 1
                    self._admin(sim.user_cancel, str(rng.choice(ours)["ordId"]))
            sim.set_price(_px(top + 40))
            return
        expiry = ladder.get("expiry_ts")
        if expiry is not None and now < int(expiry):
            if settle or rng.random() < 0.6:
                sim.advance((int(expiry) - now) // 1000 + rng.randint(2, 20))
            else:
                sim.advance(rng.randint(60, 600))
        else:
            sim.advance(rng.randint(3, 40))

    def _admin(self, call: Any, *args: str) -> None:
        """A hand action the venue may refuse (the order ended meanwhile): counted, never fatal."""
        from bench.chaos_lib.sim import AdminError

        try:
            call(*args)
        except AdminError:
            self.admin_refused += 1


def _live_stops(venue: dict[str, Any]) -> list[dict[str, Any]]:
    """Our stops (algo orders with the machine's prefix) that the venue shows live."""
    return [
        a
        for a in venue.get("algos", [])
        if str(a.get("algoClOrdId") or "").startswith(PREFIX) and a.get("state") == "live"
    ]
