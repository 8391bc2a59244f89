"""Algo orders on the venue: OKX's TP/SL orders placed, amended and cancelled, watched at every price move
and fired into a child order that is placed as any order is.

They are checked where resting orders are matched (every market step, every price set by hand) against
the price each leg watches: last, or mark / index set apart from it. A fired algo is `effective` once its
child order is accepted (the child carries algoId and algoClOrdId; its fills are ordinary fills, without
them), or `order_failed` with the child's refusal code as failCode (51169: nothing left to reduce; 51008:
no margin). A reduce-only child is capped to what the position can still close (quirk
`algo_child_oversize`: "fail" refuses it whole instead). TP/SL attached to an order become an algo only
when that order fills completely. Conditional orders freeze no margin. Cancels are taken now or, with
the async_cancel fault, at the next matching step; an algo can fire in between.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import replace
from decimal import Decimal
from itertools import takewhile

from .account import LONG_SHORT, PosKey
from .algo_params import AlgoRef, AmendAlgo, PlaceAlgo, checked_size
from .algos import CANCELED, EFFECTIVE, MARKET, ORDER_FAILED, SL, TP, Algo, AttachedStop, Leg
from .book import ARCHIVE_KEPT_MS
from .errors import ItemError, bad_item_param
from .instruments import Instrument
from .market import PricePath
from .matching import Matching
from .modes import check_trading_allowed, pos_side_for
from .orders import Order, closes
from .params import PlaceOrder

# (order side, leg kind, priced order) -> code for a TP/SL attached on the wrong side of the order's price
# (a market order: of the best bid/ask, here the last price)
_ATTACHED_WRONG_SIDE = {
    ("buy", TP, True): "51046",
    ("buy", SL, True): "51047",
    ("sell", TP, True): "51048",
    ("sell", SL, True): "51049",
    ("buy", TP, False): "51050",
    ("buy", SL, False): "51051",
    ("sell", TP, False): "51052",
    ("sell", SL, False): "51053",
}


def _opposite(side: str) -> str:
    return "sell" if side == "buy" else "buy"


class Stops(Matching):
    """The venue's algo orders, fired by the prices their legs watch."""

    def reset_account(self) -> None:
        super().reset_account()
        self.algos: dict[str, Algo] = {}  # every algo still answered for, oldest first
        self.algo_cancel_requested: dict[str, Algo] = {}  # answered sCode 0, canceled at the next step

    @abstractmethod
    def place(self, req: PlaceOrder, taken_client_order_ids: set[str]) -> Order:
        """Place one order by the venue's rules (a fired algo's child goes through them too)."""

    # -- prices ----------------------------------------------------------------------------------

    def set_price(
        self, inst_id: str, px: Decimal | None, mark: Decimal | None = None, index: Decimal | None = None
    ) -> None:
        """Trade the last price to `px` and/or put mark and index apart from it; what they reach fires."""
        path = self.path(inst_id)
        for value in (mark, index):
            if value is not None:
                path.to_ticks(value)  # refuses a price off the tick before anything moves
        if px is not None:
            super().set_price(inst_id, px)
        if mark is None and index is None:
            return
        self.sync()
        for name, value in (("mark", mark), ("index", index)):
            if value is not None:
                path.set_feed(name, value)
        self._fire_due(path.inst, self.now_ms())
        self._apply_requested_cancels()

    def _match(self, path: PricePath, low: int, high: int, t: int) -> None:
        super()._match(path, low, high, t)
        self._fire_due(path.inst, t)

    def _can_match(self) -> bool:
        live = (a for a in self.algos.values() if a.live)
        return (
            super()._can_match()
            or bool(self.algo_cancel_requested)
            or any(a.firing(self.feeds(a.inst)) for a in live)
        )

    def _cancel_all_after(self, tag: str) -> None:
        """Pending orders as the book cancels them; live algos too (every one, or its tag's) only with the
        `caa_cancels_algos` quirk: OKX's text names order-book orders and says nothing of algos."""
        super()._cancel_all_after(tag)
        if self.quirks.caa_cancels_algos:
            for algo in [a for a in self.algos.values() if a.live and (not tag or a.tag == tag)]:
                self._end(algo, CANCELED)

    def _apply_requested_cancels(self) -> None:
        super()._apply_requested_cancels()
        for algo in self.algo_cancel_requested.values():
            if algo.live:
                self._end(algo, CANCELED)
        self.algo_cancel_requested.clear()

    # -- requests --------------------------------------------------------------------------------

    def place_algo(self, req: PlaceAlgo) -> Algo:
        """Place one algo, or raise ItemError with its sCode."""
        check_trading_allowed(self.account, req.td_mode, self.quirks)
        pos_side = pos_side_for(self.account, req.pos_side)
        key = (req.inst.inst_id, req.td_mode, pos_side)
        reduce_only = closes(req.side, pos_side) if self.account.pos_mode == LONG_SHORT else req.reduce_only
        if req.client_id and self._algo_client_id_taken(req.client_id):
            raise ItemError("51065")
        if req.client_id and self._attach_client_id_taken(req.client_id):
            raise _clash(req.client_id)
        if req.sz is None:  # closeFraction: the whole position, one such algo per position
            if not reduce_only:
                raise bad_item_param("reduceOnly")
            if self._reduce_room(key, req.side) == 0:
                raise ItemError("51058")
            if any(a.live and a.sz is None and self._key(a) == key for a in self.algos.values()):
                raise ItemError("51088")
        algo = self._new_algo(
            req.inst, req.client_id, req.ord_type, req.side, key, req.sz, reduce_only, req.legs, req.tag
        )
        algo.cxl_on_close_pos = req.cxl_on_close_pos
        self._check_legs(algo)
        self._add(algo)
        return algo

    def amend_algo(self, req: AmendAlgo) -> Algo:
        """Change a live algo's size or legs, or raise ItemError; a refused amend cancels the algo when
        `cxlOnFail` asked it to."""
        algo = self._find(req.ref)
        if algo is None or not algo.live:
            raise ItemError("51503")
        algo.req_id, algo.amend_result, algo.u_time = req.req_id, "-1", self.now_ms()
        try:
            if req.empty:
                raise ItemError("51500")
            if req.new_sz is not None and algo.sz is None:
                raise bad_item_param("newSz")  # it closes the whole position: no size to change
            changed = replace(algo, legs=_amended_legs(algo, req), sz=req.new_sz or algo.sz)
            self._check_legs(changed)
        except ItemError:
            if req.cxl_on_fail:
                self._end(algo, CANCELED)
            else:
                self._algo_changed(algo)
            raise
        algo.legs, algo.sz, algo.amend_result = changed.legs, changed.sz, "0"
        self._algo_changed(algo)
        return algo

    def cancel_algo(self, ref: AlgoRef, asynchronous: bool = False) -> Algo:
        """Cancel a live algo now, or (asynchronous) accept the cancel for the next matching step.

        Raise ItemError 51416 when it has fired already, 51410 when its cancel is already accepted, 51400
        when it is canceled, failed or unknown.
        """
        algo = self._find(ref)
        if algo is None or not algo.live:
            raise ItemError("51416" if algo is not None and algo.state == EFFECTIVE else "51400")
        if algo.algo_id in self.algo_cancel_requested:
            raise ItemError("51410")
        if asynchronous:
            self.algo_cancel_requested[algo.algo_id] = algo
        else:
            self._end(algo, CANCELED)
        return algo

    def user_cancel_algo(self, algo_id: str | None, client_id: str | None) -> Algo:
        """A trader cancelling an algo in the OKX app."""
        self.sync()
        algo = self._find(AlgoRef(None, algo_id, client_id)) if (algo_id or client_id) else None
        if algo is None or not algo.live:
            raise LookupError("no live algo order with that algoId/algoClOrdId")
        self._end(algo, CANCELED)
        return algo

    def find_algo(self, algo_id: str | None, client_id: str | None) -> Algo | None:
        """GET /trade/order-algo: algoId wins; an algoClOrdId gives its latest algo."""
        return self._find(AlgoRef(None, algo_id, client_id))

    def pending_algos(self) -> list[Algo]:
        """The live algos, newest first."""
        return [a for a in reversed(self.algos.values()) if a.live]

    def algo_history(self) -> list[Algo]:
        """The ended algos of the last 3 months, newest first."""
        self.forget_expired()
        return [a for a in reversed(self.algos.values()) if not a.live]

    def _check_attached(self, req: PlaceOrder, reduce_only: bool, market_px: Decimal) -> None:
        """TP/SL attached to an order being placed: not on a reduce-only order (51100), a free
        attachAlgoClOrdId (51068), and beyond the order's price, or the market's for a market order."""
        for stop in req.attached:
            if reduce_only:
                raise ItemError("51100")
            taken = self._algo_client_id_taken(stop.client_id) or self._attach_client_id_taken(stop.client_id)
            if stop.client_id and taken:
                raise _clash(stop.client_id)
            ref_px = market_px if req.px is None else req.px
            for leg in stop.legs:
                if leg.reached(_opposite(req.side), ref_px):
                    raise ItemError(_ATTACHED_WRONG_SIDE[(req.side, leg.kind, req.px is not None)])

    # -- the book's side -------------------------------------------------------------------------

    def _changed(self, order: Order) -> None:
        """After an order change: its attached TP/SL once it is filled; a closed position's algos that
        asked to go with it (cxlOnClosePos)."""
        super()._changed(order)
        key = (order.inst.inst_id, order.td_mode, order.pos_side)
        if order.state == "filled":
            for stop in order.attached:
                self._attach(order, key, stop)
        just_filled = order.last_fill is not None and order.last_fill.ts == order.u_time
        if just_filled and key not in self.account.positions:
            for algo in [a for a in self.algos.values() if a.live and a.cxl_on_close_pos]:
                if self._key(algo) == key:
                    self._end(algo, CANCELED)

    def _settings_locked(self) -> bool:
        """OKX refuses mode changes while algos are live too."""
        return super()._settings_locked() or any(a.live for a in self.algos.values())

    def forget_expired(self) -> None:
        """Orders and fills as the book does; ended algos placed more than 3 months ago."""
        super().forget_expired()
        cutoff = self.now_ms() - ARCHIVE_KEPT_MS
        old = takewhile(lambda a: a.c_time < cutoff, self.algos.values())
        for algo_id in [a.algo_id for a in old if not a.live]:
            del self.algos[algo_id]

    # -- inside ----------------------------------------------------------------------------------

    def _new_algo(
        self,
        inst: Instrument,
        client_id: str,
        ord_type: str,
        side: str,
        key: PosKey,
        sz: Decimal | None,
        reduce_only: bool,
        legs: tuple[Leg, ...],
        tag: str,
    ) -> Algo:
        now = self.now_ms()
        _, td_mode, pos_side = key
        return Algo(
            inst=inst,
            algo_id=self.ids.timed("algo", now),
            client_id=client_id,
            ord_type=ord_type,
            side=side,
            pos_side=pos_side,
            td_mode=td_mode,
            sz=sz,
            reduce_only=reduce_only,
            legs=legs,
            tag=tag,
            lever=self.account.lever(*key),
            last_px=self.mark(inst),
            c_time=now,
            u_time=now,
        )

    def _attach(self, order: Order, key: PosKey, stop: AttachedStop) -> None:
        """The algo an order's attached TP/SL becomes once the order is filled: it closes what filled."""
        ord_type = "oco" if len(stop.legs) == 2 else "conditional"
        side = _opposite(order.side)
        algo = self._new_algo(order.inst, stop.client_id, ord_type, side, key, order.sz, True, stop.legs, "")
        self._add(algo)

    def _add(self, algo: Algo) -> None:
        self.algos[algo.algo_id] = algo
        self._algo_changed(algo)

    def _check_legs(self, algo: Algo) -> None:
        """Refuse (ItemError) a leg whose trigger is already past the price it watches; size checks too."""
        if algo.sz is not None:
            checked_size(algo.sz, algo.inst, self.quirks)
        prices = self.feeds(algo.inst)
        for leg in algo.watched():
            code = leg.refusal(algo.side, prices[leg.px_type])
            if code is not None:
                raise ItemError(code)

    def _find(self, ref: AlgoRef) -> Algo | None:
        """The algo a request names (algoId wins, an algoClOrdId means its latest), on its instrument."""
        self.forget_expired()
        if ref.algo_id is not None:
            found = self.algos.get(ref.algo_id)
        else:
            found = next((a for a in reversed(self.algos.values()) if a.client_id == ref.client_id), None)
        return found if found is not None and ref.inst_id in (None, found.inst.inst_id) else None

    def _algo_client_id_taken(self, client_id: str) -> bool:
        return any(a.live and a.client_id == client_id for a in self.algos.values())

    def _attach_client_id_taken(self, client_id: str) -> bool:
        return any(stop.client_id == client_id for o in self.open.values() for stop in o.attached)

    @staticmethod
    def _key(algo: Algo) -> PosKey:
        return (algo.inst.inst_id, algo.td_mode, algo.pos_side)

    def _reduce_room(self, key: PosKey, side: str) -> Decimal:
        """What an order on `side` may still close of the position at `key`: held less resting closes."""
        return max(self._reducible(key, side) - self._pending_close(key), Decimal(0))

    def _fire_due(self, inst: Instrument, t: int) -> None:
        prices = self.feeds(inst)
        for algo in [a for a in self.algos.values() if a.live and a.inst is inst]:
            leg = algo.firing(prices)
            if leg is not None and algo.live:  # an earlier child may have closed its position (cxlOnClosePos)
                self._fire(algo, leg, t)

    def _fire(self, algo: Algo, leg: Leg, t: int) -> None:
        algo.state, algo.actual_side, algo.trigger_time, algo.u_time = EFFECTIVE, leg.kind, t, t
        try:
            order = self.place(self._child(algo, leg), set())
        except ItemError as exc:
            algo.state, algo.fail_code = ORDER_FAILED, exc.code
        else:
            algo.ord_ids.append(order.ord_id)
            algo.actual_sz, algo.actual_px = order.sz, order.px
        self._algo_changed(algo)

    def _child(self, algo: Algo, leg: Leg) -> PlaceOrder:
        """The order a fired algo places: at market (or its leg's price), reduce-only ones capped to what
        the position can still close."""
        room = self._reduce_room(self._key(algo), algo.side) if algo.reduce_only else Decimal(0)
        sz = room if algo.sz is None else algo.sz
        if algo.reduce_only and room > 0 and self.quirks.algo_child_oversize == "cap":
            sz = min(sz, room)
        if sz == 0:  # it closes the whole position, and none is left
            raise ItemError("51169")
        market = leg.ord_px == MARKET
        return PlaceOrder(
            inst=algo.inst,
            td_mode=algo.td_mode,
            side=algo.side,
            pos_side=algo.pos_side,
            ord_type="market" if market else "limit",
            sz=sz,
            px=None if market else leg.ord_px,
            client_order_id="",
            tag=algo.tag,
            reduce_only=algo.reduce_only,
            algo_id=algo.algo_id,
            algo_client_id=algo.client_id,
        )

    def _end(self, algo: Algo, state: str) -> None:
        algo.state, algo.u_time = state, self.now_ms()
        self._algo_changed(algo)

    def _algo_changed(self, algo: Algo) -> None:
        """Tell the algo watchers (the WebSocket `orders-algo` channel) that an algo was placed, changed or
        ended."""
        for watcher in self.algo_watchers:
            watcher(algo)


def _amended_legs(algo: Algo, req: AmendAlgo) -> tuple[Leg, ...]:
    """The legs an amend leaves (ItemError when it would leave none, or break an oco's pair)."""
    current = {leg.kind: leg for leg in algo.legs}
    kept = (change.applied(current.get(change.kind)) for change in req.legs)
    legs = tuple(leg for leg in kept if leg is not None)
    if not legs or (algo.ord_type == "oco" and len(legs) != 2):
        raise bad_item_param("newSlTriggerPx")
    return legs


def _clash(client_id: str) -> ItemError:
    return ItemError("51068", f"{client_id} already exists within algoClOrdId and attachAlgoClOrdId.")
