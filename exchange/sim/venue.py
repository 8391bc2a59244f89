"""The venue: the book, its accounting, matching and algo orders, and the requests traders make of it
(place, cancel, close, in the API or in the OKX app). Callers hold `Venue.lock` around every call."""

from __future__ import annotations

from decimal import Decimal

from . import pricelimit
from .account import LONG_SHORT, Position, PosKey, margin_for
from .book import CANCEL_BY_USER, CANCEL_POSITION_CLOSED
from .errors import ApiError, ItemError
from .instruments import Instrument
from .modes import check_trading_allowed, pos_side_for, top_level
from .orders import Order, closes
from .params import ClosePosition, PlaceOrder
from .stops import Stops


class Venue(Stops):
    """The simulated OKX venue the endpoints and the simulator's controls drive."""

    def place(self, req: PlaceOrder, taken_client_order_ids: set[str]) -> Order:
        """Place one order, or raise ItemError with its sCode.

        `taken_client_order_ids`: the clOrdIds the batch has placed so far.
        """
        pricelimit.check(req.inst, req.side, req.px, self.mark(req.inst))
        if req.client_order_id and (
            req.client_order_id in taken_client_order_ids
            or self._pending_by_client_order_id(req.client_order_id)
        ):
            raise ItemError("51016")
        check_trading_allowed(self.account, req.td_mode, self.quirks)
        pos_side = pos_side_for(self.account, req.pos_side)
        key = (req.inst.inst_id, req.td_mode, pos_side)
        long_short = self.account.pos_mode == LONG_SHORT
        reduce_only = closes(req.side, pos_side) if long_short else req.reduce_only
        market_px = self.mark(req.inst)
        self._check_attached(req, reduce_only, market_px)
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
            req.inst, req.client_order_id, req.tag, req.side, key, req.ord_type, req.px, req.sz, reduce_only
        )
        order.frozen = frozen
        order.algo_id, order.algo_client_id, order.attached = req.algo_id, req.algo_client_id, req.attached
        if req.client_order_id:
            taken_client_order_ids.add(req.client_order_id)
        self.orders[order.ord_id] = order
        self.open[order.ord_id] = order
        self._changed(order)
        self._execute(order, market_px)
        return order

    def _new_order(
        self,
        inst: Instrument,
        client_order_id: str,
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
            client_order_id=client_order_id,
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

    def _find_pending(self, ord_id: str | None, client_order_id: str | None) -> Order | None:
        if ord_id is not None:
            return self.open.get(ord_id)
        assert client_order_id is not None
        return self._pending_by_client_order_id(client_order_id)

    def _pending_by_client_order_id(self, client_order_id: str) -> Order | None:
        return next((o for o in self.open.values() if o.client_order_id == client_order_id), None)

    def cancel(
        self, inst_id: str, ord_id: str | None, client_order_id: str | None, asynchronous: bool = False
    ) -> Order:
        """Cancel a pending order now, or (asynchronous) accept the cancel for the next matching step.

        Raise ItemError 51410 when its cancel is already accepted, the `cancel_canceled_code` quirk when
        it is canceled, 51400 when it is filled or unknown.
        """
        if ord_id is None and client_order_id is None:
            raise ItemError("51407")
        order = self._find_pending(ord_id, client_order_id)
        if order is None or order.inst.inst_id != inst_id:
            known = self.find_order(inst_id, ord_id, client_order_id)
            canceled = known is not None and known.state == "canceled"
            raise ItemError(self.quirks.cancel_canceled_code if canceled else "51400")
        if order.ord_id in self.cancel_requested:
            raise ItemError("51410")
        if asynchronous:
            self.cancel_requested[order.ord_id] = order
        else:
            self._terminate(order, CANCEL_BY_USER)
        return order

    def user_cancel(self, ord_id: str | None, client_order_id: str | None) -> Order:
        """A trader cancelling in the OKX app."""
        self.sync()
        order = self._find_pending(ord_id, client_order_id) if (ord_id or client_order_id) else None
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
        if req.client_order_id and self._pending_by_client_order_id(req.client_order_id):
            raise ApiError("51016")
        return self._close_at_market(pos, req.client_order_id, req.tag)

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

    def _close_at_market(self, pos: Position, client_order_id: str, tag: str) -> Order:
        for order in self._closing_orders(pos.key):
            self._terminate(order, CANCEL_POSITION_CLOSED)
        side = "sell" if pos.direction > 0 else "buy"
        order = self._new_order(pos.inst, client_order_id, tag, side, pos.key, "market", None, pos.size, True)
        self.orders[order.ord_id] = order
        self.open[order.ord_id] = order
        self._changed(order)
        self._execute(order, self.mark(pos.inst))
        return order
