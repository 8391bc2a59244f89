"""The venue's state and rules: orders, matching against the market, fills, positions and balance.

Callers hold `Venue.lock` around every call. Resting orders fill when the market trades at or
through their price, at their price, as maker; each step fills at most `fill_ratio` of an order's size
(rounded down to the lot, at least one lot), so partial fills really happen. Orders that take
liquidity fill at once at the market price, as taker. Requests applied late (`deferred`) and cancels
that take effect after their answer (`cancel_requested`) are carried out at the matching steps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any

from .account import LEVER, Account, Position, fee_for, margin_for
from .clock import Clock
from .deferred import DeferredQueue
from .errors import ApiError, ItemError
from .instruments import INSTRUMENTS, PRIMARY_INST_ID, Instrument
from .market import Market, PricePath
from .orders import Fill, IdSource, Order, closes
from .params import ClosePosition, PlaceOrder
from .quirks import Quirks

CANCELED_UNFILLED_KEPT_MS = 2 * 3_600_000  # canceled orders without fills are kept only about 2 h
HISTORY_KEPT_MS = 7 * 86_400_000
FILLS_KEPT_MS = 3 * 86_400_000
FILLS_HISTORY_KEPT_MS = 92 * 86_400_000

CANCEL_BY_USER = "1"
CANCEL_FOK = "13"
CANCEL_IOC = "14"
CANCEL_POSITION_CLOSED = "17"
CANCEL_POST_ONLY = "31"


class Venue:
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
        self.lock = threading.RLock()
        self.clock = clock
        self.uid = str(44705892343619584 + seed)
        start_ms = clock.now_ms()
        paths = {
            inst_id: PricePath(
                inst, start_px if inst_id == PRIMARY_INST_ID else inst.default_px, start_ms, seed, volatility
            )
            for inst_id, inst in INSTRUMENTS.items()
        }
        self.market = Market(paths, start_ms)
        self._fill_ratio = fill_ratio
        self._start_balance = balance
        self.ids = IdSource()
        self.quirks = Quirks()
        self._step_ms: int | None = None  # the matching step being carried out, if any
        self.reset_account()

    def reset_account(self) -> None:
        self.account = Account(self._start_balance)
        self.orders: dict[str, Order] = {}  # every order, oldest first
        self.open: dict[str, Order] = {}  # the pending ones (live, partially_filled)
        self.fills: list[Fill] = []
        self.deferred = DeferredQueue()  # requests accepted on arrival, applied later
        self.cancel_requested: dict[str, Order] = {}  # answered sCode 0, canceled at the next step

    # -- time and price ------------------------------------------------------------------------

    def now_ms(self) -> int:
        """The clock, or during a matching step that step's time (what late requests are stamped with)."""
        return self.clock.now_ms() if self._step_ms is None else self._step_ms

    def sync(self) -> None:
        """Bring the venue up to the clock.

        First the wall-clock late requests that are due, at the clock's time. Then the market walks
        one step per whole second; at each step t the sim-clock late requests due by t are applied,
        the market moves and matches, and the requested cancels take effect. Last, the sim-clock late
        requests due between the last step and now.
        """
        now = self.clock.now_ms()
        self.deferred.run_wall_due(now)
        for t in self.market.step_times(now):
            self._step_ms = t
            try:
                self.deferred.run_sim_due(t)
                for path in self.market.paths.values():
                    low, high = path.step(t)
                    self._match(path, low, high, t)
                self._apply_requested_cancels()
            finally:
                self._step_ms = None
        self.deferred.run_sim_due(now)

    def advance(self, seconds: Decimal) -> None:
        self.sync()
        self.clock.advance(seconds)
        self.sync()

    def set_price(self, inst_id: str, px: Decimal) -> None:
        self.sync()
        path = self.path(inst_id)
        low, high = path.move_to(self.now_ms(), path.to_ticks(px))
        self._match(path, low, high, self.now_ms())
        self._apply_requested_cancels()

    def path(self, inst_id: str) -> PricePath:
        return self.market.paths[inst_id]

    def mark(self, inst: Instrument) -> Decimal:
        return self.market.paths[inst.inst_id].px

    # -- matching ------------------------------------------------------------------------------

    def _match(self, path: PricePath, low: int, high: int, t: int) -> None:
        low_px, high_px = path.to_px(low), path.to_px(high)
        for order in self.resting(path.inst.inst_id):
            assert order.px is not None
            if (order.side == "buy" and low_px <= order.px) or (order.side == "sell" and high_px >= order.px):
                self._fill(order, order.px, min(order.remaining, self._step_cap(order)), "M", t)

    def resting(self, inst_id: str) -> list[Order]:
        return [o for o in self.open.values() if o.inst.inst_id == inst_id]

    def _step_cap(self, order: Order) -> Decimal:
        lot = order.inst.lot_sz
        return max(lot, (order.sz * self._fill_ratio / lot).to_integral_value(ROUND_DOWN) * lot)

    def _fill(self, order: Order, px: Decimal, sz: Decimal, exec_type: str, t: int) -> None:
        inst = order.inst
        fee = fee_for(inst, px, sz, exec_type)
        pos = self._position(inst, order.pos_side, t)
        if order.closing:
            pnl = self.account.close(pos, px, sz, fee)
        else:
            order.frozen -= order.frozen * sz / order.remaining
            self.account.open(pos, px, sz, fee)
            pnl = Decimal(0)
        fill = Fill(
            inst=inst,
            trade_id=self.ids.trade_id(),
            bill_id=self.ids.timed("bill", t),
            ord_id=order.ord_id,
            cl_ord_id=order.cl_ord_id,
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
        if order.state == "filled":
            self.open.pop(order.ord_id, None)

    def _position(self, inst: Instrument, pos_side: str, t: int) -> Position:
        key = (inst.inst_id, pos_side)
        pos = self.account.positions.get(key)
        if pos is None:
            pos = Position(inst, pos_side, self.ids.timed("pos", t), t, t)
            self.account.positions[key] = pos
        return pos

    def _apply_requested_cancels(self) -> None:
        """After a step's matching: cancel what is still pending of the orders whose cancel was accepted."""
        for order in self.cancel_requested.values():
            if order.pending:
                self._terminate(order, CANCEL_BY_USER)
        self.cancel_requested.clear()

    def _terminate(self, order: Order, source: str) -> None:
        order.state = "canceled"
        order.cancel_source = source
        order.frozen = Decimal(0)
        order.u_time = self.now_ms()
        self.open.pop(order.ord_id, None)

    # -- trading -------------------------------------------------------------------------------

    def place(self, req: PlaceOrder, taken_cl_ord_ids: set[str]) -> Order:
        """Place one order, or raise ItemError with its sCode; `taken_cl_ord_ids`: the batch's so far."""
        if req.cl_ord_id and (req.cl_ord_id in taken_cl_ord_ids or self._pending_by_cl_ord_id(req.cl_ord_id)):
            raise ItemError("51016")
        market_px = self.mark(req.inst)
        frozen = Decimal(0)
        if closes(req.side, req.pos_side):
            self._check_closable(req.inst.inst_id, req.pos_side, req.sz)
        else:
            frozen = margin_for(req.inst, req.px or market_px, req.sz)
            if frozen > self.avail_bal():
                raise ItemError("51008")
        order = self._new_order(
            req.inst, req.cl_ord_id, req.tag, req.side, req.pos_side, req.ord_type, req.px, req.sz
        )
        order.frozen = frozen
        if req.cl_ord_id:
            taken_cl_ord_ids.add(req.cl_ord_id)
        self.orders[order.ord_id] = order
        self.open[order.ord_id] = order
        self._execute(order, market_px)
        return order

    def _new_order(
        self,
        inst: Instrument,
        cl_ord_id: str,
        tag: str,
        side: str,
        pos_side: str,
        ord_type: str,
        px: Decimal | None,
        sz: Decimal,
    ) -> Order:
        now = self.now_ms()
        return Order(
            inst=inst,
            ord_id=self.ids.timed("ord", now),
            cl_ord_id=cl_ord_id,
            tag=tag,
            side=side,
            pos_side=pos_side,
            ord_type=ord_type,
            td_mode="isolated",
            px=px,
            sz=sz,
            lever=LEVER,
            c_time=now,
            u_time=now,
        )

    def _check_closable(self, inst_id: str, pos_side: str, sz: Decimal) -> None:
        pos = self.account.positions.get((inst_id, pos_side))
        if pos is None:
            raise ItemError("51169")
        if sz > pos.pos - self._pending_close(inst_id, pos_side):
            raise ItemError("51112")

    def _pending_close(self, inst_id: str, pos_side: str) -> Decimal:
        return sum(
            (o.remaining for o in self._closing_orders(inst_id, pos_side)),
            Decimal(0),
        )

    def _closing_orders(self, inst_id: str, pos_side: str) -> list[Order]:
        return [o for o in self.resting(inst_id) if o.closing and o.pos_side == pos_side]

    def _execute(self, order: Order, market_px: Decimal) -> None:
        crosses = order.px is None or (
            order.px >= market_px if order.side == "buy" else order.px <= market_px
        )
        if order.ord_type == "post_only":
            if crosses:
                self._terminate(order, CANCEL_POST_ONLY)
        elif crosses:
            self._fill(order, market_px, order.remaining, "T", self.now_ms())
        elif order.ord_type == "ioc":
            self._terminate(order, CANCEL_IOC)
        elif order.ord_type == "fok":
            self._terminate(order, CANCEL_FOK)

    def cancel(
        self, inst_id: str, ord_id: str | None, cl_ord_id: str | None, asynchronous: bool = False
    ) -> Order:
        """Cancel a pending order now, or (asynchronous) accept the cancel for the next matching step.

        Raise ItemError 51410 when its cancel is already accepted, the `cancel_canceled_code` quirk when
        it is canceled, 51400 when it is filled or unknown.
        """
        if ord_id is None and cl_ord_id is None:
            raise ItemError("51407")
        order = self._find_pending(ord_id, cl_ord_id)
        if order is None or order.inst.inst_id != inst_id:
            known = self.find_order(inst_id, ord_id, cl_ord_id)
            canceled = known is not None and known.state == "canceled"
            raise ItemError(self.quirks.cancel_canceled_code if canceled else "51400")
        if order.ord_id in self.cancel_requested:
            raise ItemError("51410")
        if asynchronous:
            self.cancel_requested[order.ord_id] = order
        else:
            self._terminate(order, CANCEL_BY_USER)
        return order

    def _find_pending(self, ord_id: str | None, cl_ord_id: str | None) -> Order | None:
        if ord_id is not None:
            return self.open.get(ord_id)
        assert cl_ord_id is not None
        return self._pending_by_cl_ord_id(cl_ord_id)

    def _pending_by_cl_ord_id(self, cl_ord_id: str) -> Order | None:
        return next((o for o in self.open.values() if o.cl_ord_id == cl_ord_id), None)

    def user_cancel(self, ord_id: str | None, cl_ord_id: str | None) -> Order:
        """A trader cancelling in the OKX app."""
        self.sync()
        order = self._find_pending(ord_id, cl_ord_id) if (ord_id or cl_ord_id) else None
        if order is None:
            raise LookupError("no pending order with that ordId/clOrdId")
        self._terminate(order, CANCEL_BY_USER)
        return order

    def close_position(self, req: ClosePosition) -> Order:
        """Close the whole position with a market order (raise ApiError when it cannot)."""
        pos = self.account.positions.get((req.inst.inst_id, req.pos_side))
        if pos is None or req.mgn_mode != "isolated":
            raise ApiError("51023")
        pending_close = self._closing_orders(req.inst.inst_id, req.pos_side)
        if pending_close and not req.auto_cxl:
            raise ApiError("51115")
        if req.cl_ord_id and self._pending_by_cl_ord_id(req.cl_ord_id):
            raise ApiError("51016")
        return self._close_at_market(pos, req.cl_ord_id, req.tag)

    def user_close(self, inst_id: str, pos_side: str) -> Order:
        """A trader closing the position in the OKX app."""
        self.sync()
        pos = self.account.positions.get((inst_id, pos_side))
        if pos is None:
            raise LookupError(f"no {pos_side} position on {inst_id}")
        return self._close_at_market(pos, "", "")

    def _close_at_market(self, pos: Position, cl_ord_id: str, tag: str) -> Order:
        for order in self._closing_orders(pos.inst.inst_id, pos.pos_side):
            self._terminate(order, CANCEL_POSITION_CLOSED)
        side = "sell" if pos.pos_side == "long" else "buy"
        order = self._new_order(pos.inst, cl_ord_id, tag, side, pos.pos_side, "market", None, pos.pos)
        self.orders[order.ord_id] = order
        self.open[order.ord_id] = order
        self._execute(order, self.mark(pos.inst))
        return order

    # -- reading -------------------------------------------------------------------------------

    def find_order(self, inst_id: str, ord_id: str | None, cl_ord_id: str | None) -> Order | None:
        """GET /trade/order: ordId wins, a clOrdId gives its latest order; stale unfilled cancels are gone."""
        if ord_id is not None:
            matches = [self.orders[ord_id]] if ord_id in self.orders else []
        else:
            matches = [o for o in reversed(self.orders.values()) if o.cl_ord_id == cl_ord_id]
        return next((o for o in matches if o.inst.inst_id == inst_id and self._retained(o)), None)

    def _retained(self, order: Order) -> bool:
        expired = self.now_ms() - order.u_time > CANCELED_UNFILLED_KEPT_MS
        return not (order.state == "canceled" and order.acc_fill_sz == 0 and expired)

    def history(self) -> list[Order]:
        """Terminal orders of the last 7 days, newest first."""
        now = self.now_ms()
        return [
            o
            for o in reversed(self.orders.values())
            if not o.pending and now - o.c_time <= HISTORY_KEPT_MS and self._retained(o)
        ]

    def pending(self) -> list[Order]:
        return list(reversed(self.open.values()))

    def recent_fills(self, kept_ms: int) -> list[Fill]:
        now = self.now_ms()
        return [f for f in reversed(self.fills) if now - f.ts <= kept_ms]

    def avail_bal(self) -> Decimal:
        return self.account.cash - self.account.iso_margin() - self.ord_frozen()

    def ord_frozen(self) -> Decimal:
        return sum((o.frozen for o in self.open.values()), Decimal(0))

    def positions(self, accept: Callable[[Position], bool] = lambda _: True) -> list[dict[str, Any]]:
        chosen = [p for p in self.account.positions.values() if accept(p)]
        chosen.sort(key=lambda p: p.c_time, reverse=True)
        return [
            p.to_okx(self.mark(p.inst), p.pos - self._pending_close(p.inst.inst_id, p.pos_side))
            for p in chosen
        ]

    def balance(self) -> dict[str, Any]:
        upl = sum((p.upl(self.mark(p.inst)) for p in self.account.positions.values()), Decimal(0))
        return self.account.to_okx(self.ord_frozen(), upl, self.now_ms())

    def config(self) -> dict[str, Any]:
        return {
            "acctLv": "2",
            "acctStpMode": "cancel_maker",
            "autoLoan": False,
            "ctIsoMode": "automatic",
            "enableSpotBorrow": False,
            "feeType": "0",
            "greeksType": "PA",
            "ip": "",
            "kycLv": "3",
            "label": "okx-fsm simulator",
            "level": "Lv1",
            "levelTmp": "",
            "liquidationGear": "-1",
            "mainUid": self.uid,
            "mgnIsoMode": "automatic",
            "opAuth": "1",
            "perm": "read_only,trade",
            "posMode": "long_short_mode",
            "roleType": "0",
            "settleCcy": "USDT",
            "settleCcyList": ["USDT"],
            "spotBorrowAutoRepay": False,
            "spotOffsetType": "",
            "spotRoleType": "0",
            "spotTraderInsts": [],
            "stgyType": "0",
            "traderInsts": [],
            "type": "0",
            "uid": self.uid,
        }
