"""Matching: the market walks with the clock and what rests, or arrives, fills against it.

Resting orders fill when the market trades at or through their price (only through it, under a fill
model that says a touch is not enough), at their price, as maker; each step fills at most `fill_ratio`
of an order's size (rounded down to the lot, at least one lot), so partial fills really happen. Orders
that take liquidity fill at once at the market price (a market order with the fill model's slippage),
as taker.
Requests applied late (`deferred`), cancels that take effect after their answer
(`cancel_requested`) and Cancel All After timers that run out (`caa_timers`) are carried out at the
matching steps.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from .account import fee_for
from .accounting import Accounting
from .book import (
    CANCEL_ALL_AFTER,
    CANCEL_BY_USER,
    CANCEL_FOK,
    CANCEL_IOC,
    CANCEL_POSITION_CLOSED,
    CANCEL_POST_ONLY,
)
from .clock import Clock
from .fillmodel import FillModel
from .instruments import INSTRUMENTS, PRIMARY_INST_ID
from .market import Market, PricePath
from .orders import Fill, Order


class Matching(Accounting):
    """The market's steps and the fills they make, and orders that take liquidity filled on arrival."""

    def __init__(
        self,
        clock: Clock,
        seed: int,
        start_px: Decimal,
        volatility: Decimal,
        fill_ratio: Decimal,
        balance: Decimal,
    ) -> None:
        if not 0 < fill_ratio <= 1:
            raise ValueError("fill_ratio must be in (0, 1]")
        start_ms = clock.now_ms()
        paths = {
            inst_id: PricePath(
                inst, start_px if inst_id == PRIMARY_INST_ID else inst.default_px, start_ms, seed, volatility
            )
            for inst_id, inst in INSTRUMENTS.items()
        }
        super().__init__(clock, seed, Market(paths, start_ms, self._can_match), balance)
        self._fill_ratio = fill_ratio
        self.fill_model = FillModel()

    def _reaches(self, order: Order, low_px: Decimal, high_px: Decimal) -> bool:
        """Whether the market trading over [low_px, high_px] reaches a resting order's price."""
        assert order.px is not None
        return self.fill_model.reaches(order.side, order.px, low_px, high_px)

    def sync(self) -> None:
        """Bring the venue up to the clock.

        First the wall-clock late requests that are due, at the clock's time. Then the market walks
        one step per whole second; at each step t the sim-clock late requests due by t are applied (a
        late Cancel All After refresh among them), the Cancel All After timers run out by t cancel what
        they cover, the market moves and matches, and the requested cancels take effect. Last, the
        sim-clock late requests and timers due between the last step and now, and the funding times
        come by now.
        """
        now = self.clock.now_ms()
        self.deferred.run_wall_due(now)
        for t in self.market.step_times(now):
            self._step_ms = t
            try:
                self.deferred.run_sim_due(t)
                self._run_cancel_all_after(t)
                for path in self.market.paths.values():
                    low, high = path.step(t)
                    self._match(path, low, high, t)
                self._apply_requested_cancels()
            finally:
                self._step_ms = None
        self.deferred.run_sim_due(now)
        self._run_cancel_all_after(now)
        for inst_id, charge in self.funding.take_due(now):
            self.charge_funding(inst_id, charge)

    def advance(self, seconds: Decimal) -> None:
        self.sync()
        self.clock.advance(seconds)
        self.sync()
        self.forget_expired()

    def set_price(self, inst_id: str, px: Decimal) -> None:
        self.sync()
        path = self.path(inst_id)
        low, high = path.move_to(self.now_ms(), path.to_ticks(px))
        if path.tape is not None:  # a replay's forming bar shows what was traded
            path.tape.trade(self.now_ms(), px)
        self._match(path, low, high, self.now_ms())
        self._apply_requested_cancels()

    def _match(self, path: PricePath, low: int, high: int, t: int) -> None:
        low_px, high_px = path.to_px(low), path.to_px(high)
        for order in self.resting(path.inst.inst_id):
            if self._reaches(order, low_px, high_px):
                assert order.px is not None
                self._fill(order, order.px, min(order.remaining, self._step_cap(order)), "M", t)

    def _can_match(self) -> bool:
        """Whether a step could change anything if the market stayed where it is: fill a resting order,
        apply a late request due on the sim clock, carry out an accepted cancel, or run out a Cancel All
        After timer."""
        if self.cancel_requested or self.deferred.waits_on_sim_clock() or self.caa_timers.armed:
            return True
        return any(self._reaches(o, self.mark(o.inst), self.mark(o.inst)) for o in self.open.values())

    def _step_cap(self, order: Order) -> Decimal:
        lot = order.inst.lot_sz
        return max(lot, (order.sz * self._fill_ratio / lot).to_integral_value(ROUND_DOWN) * lot)

    def _execute(self, order: Order, market_px: Decimal) -> None:
        crosses = order.px is None or (
            order.px >= market_px if order.side == "buy" else order.px <= market_px
        )
        if order.ord_type == "post_only":
            if crosses:
                self._terminate(order, CANCEL_POST_ONLY)
        elif crosses:
            px = market_px
            if order.px is None:  # a market order: the model's slippage against it
                px = self.fill_model.market_px(order.side, market_px, order.inst.tick_sz)
            self._fill(order, px, order.remaining, "T", self.now_ms())
        elif order.ord_type == "ioc":
            self._terminate(order, CANCEL_IOC)
        elif order.ord_type == "fok":
            self._terminate(order, CANCEL_FOK)

    def _fill(self, order: Order, px: Decimal, sz: Decimal, exec_type: str, t: int) -> None:
        inst = order.inst
        key = (inst.inst_id, order.td_mode, order.pos_side)
        if order.reduce_only:  # never more than the position still holds (someone may have closed it)
            sz = min(sz, self._reducible(key, order.side))
            if sz == 0:
                self._terminate(order, CANCEL_POSITION_CLOSED)
                return
        fee = fee_for(inst, px, sz, self.fill_model.rate(exec_type))
        pos = self.account.positions.get(key) or self._open_position(key, t)
        if not order.reduce_only:
            order.frozen -= order.frozen * sz / order.remaining
        pnl = self.account.fill(pos, sz if order.side == "buy" else -sz, px, fee)
        fill = Fill(
            inst=inst,
            trade_id=self.ids.trade_id(),
            bill_id=self.ids.timed("bill", t),
            ord_id=order.ord_id,
            client_order_id=order.client_order_id,
            tag=order.tag,
            px=px,
            sz=sz,
            side=order.side,
            pos_side=order.pos_side,
            exec_type=exec_type,
            fee=fee,
            pnl=pnl,
            ts=t,
        )
        pos.trade_id = fill.trade_id
        pos.u_time = t
        self.fills.append(fill)
        order.acc_fill_sz += sz
        order.fill_value += px * sz
        order.fee += fee
        order.pnl += pnl
        order.last_fill = fill
        order.state = "filled" if order.remaining == 0 else "partially_filled"
        order.u_time = t
        self._changed(order)
        if order.state == "filled":
            self.open.pop(order.ord_id, None)
        elif order.reduce_only and self._reducible(key, order.side) == 0:
            self._terminate(order, CANCEL_POSITION_CLOSED)

    def _run_cancel_all_after(self, t: int) -> None:
        for tag in self.caa_timers.take_due(t):
            self._cancel_all_after(tag)

    def _cancel_all_after(self, tag: str) -> None:
        """A Cancel All After timer ran out: cancel (cancelSource 20) every pending order for the account
        level (tag ""), or those placed with its tag."""
        for order in [o for o in self.open.values() if not tag or o.tag == tag]:
            self._terminate(order, CANCEL_ALL_AFTER)

    def _apply_requested_cancels(self) -> None:
        """After a step's matching: cancel what is still pending of the orders whose cancel was accepted."""
        for order in self.cancel_requested.values():
            if order.pending:
                self._terminate(order, CANCEL_BY_USER)
        self.cancel_requested.clear()
