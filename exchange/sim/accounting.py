"""The venue's account side: positions and the orders that close them, available balance and margin,
what the account endpoints show, and the account's modes and leverage."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .account import LONG_SHORT, NET, Position, PosKey
from .book import Book
from .decimals import fmt
from .errors import ApiError, ItemError, bad_param
from .funding import Bill, Charge
from .instruments import INSTRUMENTS, Instrument
from .modes import PORTFOLIO_MARGIN, check_trading_allowed, top_level
from .orders import Order
from .params import SetLeverage


class Accounting(Book):
    """Positions, balance, margin checks and account settings over the book."""

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

    def charge_funding(self, inst_id: str, charge: Charge) -> None:
        """Every open position of `inst_id` pays (or receives) its value at mark x the period's rate."""
        for pos in [p for p in self.account.positions.values() if p.inst.inst_id == inst_id]:
            mark = self._mark_px(pos.inst)
            paid = -pos.direction * pos.notional(mark) * charge.rate
            pos.funding_fee += paid
            self.account.cash += paid
            bill_id = self.ids.timed("bill", charge.ts)
            self.bills.append(
                Bill(bill_id, inst_id, pos.mgn_mode, charge.ts, paid, self.account.cash, pos.size, mark)
            )

    def avail_bal(self) -> Decimal:
        return self.account.cash - self.account.iso_margin() - self._cross_imr() - self.ord_frozen()

    def _cross_imr(self) -> Decimal:
        return self.account.cross_imr(self._mark_px)

    def _mark_px(self, inst: Instrument) -> Decimal:
        """OKX's mark price: what positions' upl and cross margin are priced at (the last price until
        POST /sim/price sets it apart)."""
        return self.feeds(inst)["mark"]

    def ord_frozen(self) -> Decimal:
        return sum((o.frozen for o in self.open.values()), Decimal(0))

    def positions(self, accept: Callable[[Position], bool] = lambda _: True) -> list[dict[str, Any]]:
        chosen = [p for p in self.account.positions.values() if accept(p)]
        chosen.sort(key=lambda p: p.c_time, reverse=True)
        return [p.to_okx(self.feeds(p.inst), p.size - self._pending_close(p.key)) for p in chosen]

    def balance(self) -> dict[str, Any]:
        upl = sum((p.upl(self._mark_px(p.inst)) for p in self.account.positions.values()), Decimal(0))
        return self.account.to_okx(self.ord_frozen(), self._cross_imr(), upl, self.now_ms())

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
