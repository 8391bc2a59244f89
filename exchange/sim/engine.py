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
from itertools import takewhile
from typing import Any

from . import pricelimit
from .account import LONG_SHORT, NET, Account, Position, PosKey, fee_for, margin_for
from .clock import Clock
from .decimals import fmt
from .deferred import DeferredQueue
from .errors import ApiError, ItemError, bad_param
from .instruments import INSTRUMENTS, PRIMARY_INST_ID, Instrument
from .market import Market, PricePath
from .modes import PORTFOLIO_MARGIN, check_trading_allowed, pos_side_for, top_level
from .orders import Fill, IdSource, Order, closes
from .params import ClosePosition, PlaceOrder, SetLeverage
from .quirks import Quirks

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# OKX's retention windows (facts sheet 6.6, 6.7). Orders count by cTime, fills by ts.
CANCELED_UNFILLED_KEPT_MS = 2 * HOUR_MS  # a canceled order without fills: about 2 h after it ended
HISTORY_KEPT_MS = 7 * DAY_MS  # orders-history
ARCHIVE_KEPT_MS = 92 * DAY_MS  # orders-history-archive and GET /trade/order: 3 months
FILLS_KEPT_MS = 3 * DAY_MS  # /trade/fills
FILLS_HISTORY_KEPT_MS = ARCHIVE_KEPT_MS  # /trade/fills-history

CANCEL_BY_USER = "1"
CANCEL_FOK = "13"
CANCEL_IOC = "14"
CANCEL_POSITION_CLOSED = "17"
CANCEL_POST_ONLY = "31"


def _reaches(order: Order, low_px: Decimal, high_px: Decimal) -> bool:
    """Whether the market trading over [low_px, high_px] reaches a resting order's price."""
    assert order.px is not None
    return (order.side == "buy" and low_px <= order.px) or (order.side == "sell" and high_px >= order.px)


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
        self.market = Market(paths, start_ms, self._can_match)
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
        self.forget_expired()

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
            if _reaches(order, low_px, high_px):
                assert order.px is not None
                self._fill(order, order.px, min(order.remaining, self._step_cap(order)), "M", t)

    def _can_match(self) -> bool:
        """Whether a step could change anything if the market stayed where it is: fill a resting order,
        apply a late request due on the sim clock, or carry out an accepted cancel."""
        if self.cancel_requested or self.deferred.waits_on_sim_clock():
            return True
        return any(_reaches(o, self.mark(o.inst), self.mark(o.inst)) for o in self.open.values())

    def resting(self, inst_id: str) -> list[Order]:
        return [o for o in self.open.values() if o.inst.inst_id == inst_id]

    def _step_cap(self, order: Order) -> Decimal:
        lot = order.inst.lot_sz
        return max(lot, (order.sz * self._fill_ratio / lot).to_integral_value(ROUND_DOWN) * lot)

    def _fill(self, order: Order, px: Decimal, sz: Decimal, exec_type: str, t: int) -> None:
        inst = order.inst
        key = (inst.inst_id, order.td_mode, order.pos_side)
        if order.reduce_only:  # never more than the position still holds (someone may have closed it)
            sz = min(sz, self._reducible(key, order.side))
            if sz == 0:
                self._terminate(order, CANCEL_POSITION_CLOSED)
                return
        fee = fee_for(inst, px, sz, exec_type)
        pos = self.account.positions.get(key) or self._open_position(key, t)
        if not order.reduce_only:
            order.frozen -= order.frozen * sz / order.remaining
        pnl = self.account.fill(pos, sz if order.side == "buy" else -sz, px, fee)
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
        elif order.reduce_only and self._reducible(key, order.side) == 0:
            self._terminate(order, CANCEL_POSITION_CLOSED)

    def _open_position(self, key: PosKey, t: int) -> Position:
        inst_id, mgn_mode, pos_side = key
        lever = self.account.lever(inst_id, mgn_mode, pos_side)
        pos = Position(INSTRUMENTS[inst_id], mgn_mode, pos_side, lever, self.ids.timed("pos", t), t, t)
        self.account.positions[key] = pos
        return pos

    def _reducible(self, key: PosKey, side: str) -> Decimal:
        """How much an order on `side` can reduce the position at `key` (0 if none or same direction)."""
        pos = self.account.positions.get(key)
        if pos is None or pos.direction == (1 if side == "buy" else -1):
            return Decimal(0)
        return pos.size

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
        pricelimit.check(req.inst, req.side, req.px, self.mark(req.inst))
        if req.cl_ord_id and (req.cl_ord_id in taken_cl_ord_ids or self._pending_by_cl_ord_id(req.cl_ord_id)):
            raise ItemError("51016")
        check_trading_allowed(self.account, req.td_mode, self.quirks)
        pos_side = pos_side_for(self.account, req.pos_side)
        key = (req.inst.inst_id, req.td_mode, pos_side)
        long_short = self.account.pos_mode == LONG_SHORT
        reduce_only = closes(req.side, pos_side) if long_short else req.reduce_only
        market_px = self.mark(req.inst)
        if reduce_only:
            self._check_reducible(key, req.side, req.sz)
            opening = Decimal(0)
        else:  # in net mode an opposite order first reduces the position, then opens the rest
            opening = req.sz - min(req.sz, self._reducible(key, req.side)) if not long_short else req.sz
        lever = self.account.lever(*key)
        frozen = margin_for(req.inst, req.px or market_px, opening, lever)
        if frozen > self.avail_bal():
            raise ItemError("51008")
        order = self._new_order(
            req.inst, req.cl_ord_id, req.tag, req.side, key, req.ord_type, req.px, req.sz, reduce_only
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
        key: PosKey,
        ord_type: str,
        px: Decimal | None,
        sz: Decimal,
        reduce_only: bool,
    ) -> Order:
        now = self.now_ms()
        _, td_mode, pos_side = key
        return Order(
            inst=inst,
            ord_id=self.ids.timed("ord", now),
            cl_ord_id=cl_ord_id,
            tag=tag,
            side=side,
            pos_side=pos_side,
            ord_type=ord_type,
            td_mode=td_mode,
            px=px,
            sz=sz,
            lever=self.account.lever(*key),
            c_time=now,
            u_time=now,
            reduce_only=reduce_only,
        )

    def _check_reducible(self, key: PosKey, side: str, sz: Decimal) -> None:
        """A reduce-only order: a position to reduce (51169), against its direction (51170), and no
        larger than it less the reduce-only orders already resting on it (rejected whole, not trimmed)."""
        pos = self.account.positions.get(key)
        if pos is None:
            raise ItemError("51169")
        if pos.direction == (1 if side == "buy" else -1):
            raise ItemError("51170")
        if sz > pos.size - self._pending_close(key):
            raise ItemError(self.quirks.reduce_only_oversize_code)

    def _pending_close(self, key: PosKey) -> Decimal:
        return sum((o.remaining for o in self._closing_orders(key)), Decimal(0))

    def _closing_orders(self, key: PosKey) -> list[Order]:
        """The reduce-only orders resting against the position at `key`."""
        pos = self.account.positions.get(key)
        return [
            o
            for o in self.resting(key[0])
            if o.reduce_only
            and (o.td_mode, o.pos_side) == key[1:]
            and (pos is None or pos.direction != (1 if o.side == "buy" else -1))
        ]

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
        """Close the whole (instId, mgnMode, posSide) position with a market order, whoever opened it."""
        try:
            pos_side = pos_side_for(self.account, req.pos_side)
        except ItemError as exc:
            raise top_level(exc) from None
        pos = self.account.positions.get((req.inst.inst_id, req.mgn_mode, pos_side))
        if pos is None:
            raise ApiError("51023")
        if self._closing_orders(pos.key) and not req.auto_cxl:
            raise ApiError("51115")
        if req.cl_ord_id and self._pending_by_cl_ord_id(req.cl_ord_id):
            raise ApiError("51016")
        return self._close_at_market(pos, req.cl_ord_id, req.tag)

    def user_close(self, inst_id: str, pos_side: str, mgn_mode: str | None = None) -> Order:
        """A trader closing the position in the OKX app."""
        self.sync()
        pos = next(
            (
                p
                for p in self.account.positions.values()
                if p.inst.inst_id == inst_id and p.pos_side == pos_side and mgn_mode in (None, p.mgn_mode)
            ),
            None,
        )
        if pos is None:
            raise LookupError(f"no {pos_side} position on {inst_id}")
        return self._close_at_market(pos, "", "")

    def _close_at_market(self, pos: Position, cl_ord_id: str, tag: str) -> Order:
        for order in self._closing_orders(pos.key):
            self._terminate(order, CANCEL_POSITION_CLOSED)
        side = "sell" if pos.direction > 0 else "buy"
        order = self._new_order(pos.inst, cl_ord_id, tag, side, pos.key, "market", None, pos.size, True)
        self.orders[order.ord_id] = order
        self.open[order.ord_id] = order
        self._execute(order, self.mark(pos.inst))
        return order

    # -- account modes and leverage --------------------------------------------------------------

    def _settings_locked(self) -> bool:
        """OKX refuses mode changes while the account has positions or pending orders (59000)."""
        return bool(self.account.positions or self.open)

    def set_position_mode(self, pos_mode: str) -> None:
        if self._settings_locked():
            raise ApiError("59000")
        if self.account.acct_lv == PORTFOLIO_MARGIN and pos_mode == LONG_SHORT:
            raise ApiError("51041")
        self.account.pos_mode = pos_mode

    def set_account_level(self, acct_lv: str) -> None:
        """Switch the account mode; portfolio margin trades SWAP in net mode only, so it switches to it."""
        if self._settings_locked():
            raise ApiError("59000")
        self.account.acct_lv = acct_lv
        if acct_lv == PORTFOLIO_MARGIN:
            self.account.pos_mode = NET

    def set_leverage(self, req: SetLeverage) -> dict[str, str]:
        """Set the leverage of (instId, mgnMode[, posSide]) and re-margin the positions it governs."""
        account = self.account
        try:
            check_trading_allowed(account, req.mgn_mode, self.quirks)
        except ItemError as exc:
            raise top_level(exc) from None
        per_side = account.lever_sides(req.mgn_mode) != ("net",)
        if per_side and req.pos_side not in ("long", "short"):
            raise bad_param("posSide")
        key = account.lever_key(req.inst.inst_id, req.mgn_mode, req.pos_side or "net")
        if req.lever > req.inst.max_lever:
            raise ApiError("59102")
        pending = (o for o in self.open.values() if not o.reduce_only)
        if any((o.inst.inst_id, o.td_mode) == key[:2] for o in pending):
            raise ApiError("59101" if req.mgn_mode == "isolated" else "59107")
        governed = [p for p in account.positions.values() if account.lever_key(*p.key) == key]
        extra = sum(
            (
                p.notional(p.avg_px) / req.lever - p.margin
                if p.mgn_mode == "isolated"
                else p.notional(self.mark(p.inst)) * (1 / req.lever - 1 / p.lever)
                for p in governed
            ),
            Decimal(0),
        )
        if extra > self.avail_bal():
            raise ApiError("59108")
        account.set_lever(key, req.lever)
        for pos in governed:
            pos.lever = req.lever
            if pos.mgn_mode == "isolated":
                pos.margin = pos.notional(pos.avg_px) / req.lever
        return {
            "instId": req.inst.inst_id,
            "lever": fmt(req.lever),
            "mgnMode": req.mgn_mode,
            "posSide": req.pos_side or "",
        }

    def leverage_info(self, inst: Instrument, mgn_mode: str) -> list[dict[str, str]]:
        return [
            {
                "ccy": "",
                "instId": inst.inst_id,
                "lever": fmt(self.account.lever(inst.inst_id, mgn_mode, side)),
                "mgnMode": mgn_mode,
                "posSide": side,
            }
            for side in self.account.lever_sides(mgn_mode)
        ]

    # -- reading -------------------------------------------------------------------------------

    def find_order(self, inst_id: str, ord_id: str | None, cl_ord_id: str | None) -> Order | None:
        """GET /trade/order: ordId wins, a clOrdId gives its latest order; only retained orders are found."""
        self.forget_expired()
        if ord_id is not None:
            matches = [self.orders[ord_id]] if ord_id in self.orders else []
        else:
            matches = [o for o in reversed(self.orders.values()) if o.cl_ord_id == cl_ord_id]
        return next((o for o in matches if o.inst.inst_id == inst_id and self._retained(o)), None)

    def _retained(self, order: Order) -> bool:
        """Pending, or placed within 3 months; a canceled order without fills until 2 h after it ended."""
        if order.pending:
            return True
        now = self.now_ms()
        unfilled_cancel = order.state == "canceled" and order.acc_fill_sz == 0
        if unfilled_cancel and now - order.u_time > CANCELED_UNFILLED_KEPT_MS:
            return False
        return now - order.c_time <= ARCHIVE_KEPT_MS

    def history(self, kept_ms: int) -> list[Order]:
        """Retained ended orders placed within `kept_ms` (7 days: orders-history, 3 months: its archive).

        Newest first.
        """
        self.forget_expired()
        now = self.now_ms()
        recent = takewhile(lambda o: now - o.c_time <= kept_ms, reversed(self.orders.values()))
        return [o for o in recent if not o.pending and self._retained(o)]

    def forget_expired(self) -> None:
        """Drop fills and ended orders older than the 3-month windows: no endpoint answers with them any more.

        Orders are kept in cTime order and fills in ts order, so only the expired ones are visited.
        """
        cutoff = self.now_ms() - ARCHIVE_KEPT_MS
        stale = sum(1 for _ in takewhile(lambda f: f.ts < cutoff, self.fills))
        del self.fills[:stale]
        old = takewhile(lambda o: o.c_time < cutoff, self.orders.values())
        for ord_id in [o.ord_id for o in old if not o.pending]:
            del self.orders[ord_id]

    def pending(self) -> list[Order]:
        return list(reversed(self.open.values()))

    def recent_fills(self, kept_ms: int) -> list[Fill]:
        """Fills of the last `kept_ms` (fills: 3 days, fills-history: 3 months), newest first."""
        self.forget_expired()
        now = self.now_ms()
        return list(takewhile(lambda f: now - f.ts <= kept_ms, reversed(self.fills)))

    def avail_bal(self) -> Decimal:
        return self.account.cash - self.account.iso_margin() - self._cross_imr() - self.ord_frozen()

    def _cross_imr(self) -> Decimal:
        return self.account.cross_imr(self.mark)

    def ord_frozen(self) -> Decimal:
        return sum((o.frozen for o in self.open.values()), Decimal(0))

    def positions(self, accept: Callable[[Position], bool] = lambda _: True) -> list[dict[str, Any]]:
        chosen = [p for p in self.account.positions.values() if accept(p)]
        chosen.sort(key=lambda p: p.c_time, reverse=True)
        return [p.to_okx(self.mark(p.inst), p.size - self._pending_close(p.key)) for p in chosen]

    def balance(self) -> dict[str, Any]:
        upl = sum((p.upl(self.mark(p.inst)) for p in self.account.positions.values()), Decimal(0))
        return self.account.to_okx(self.ord_frozen(), self._cross_imr(), upl, self.now_ms())

    def config(self) -> dict[str, Any]:
        return {
            "acctLv": self.account.acct_lv,
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
            "posMode": self.account.pos_mode,
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
