"""The venue's book: the clock and prices, every order and fill, the pending ones, and what OKX still
answers about ended orders and old fills (its retention windows).

Callers hold `Book.lock` around every call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from itertools import takewhile

from .account import Account
from .algos import Algo
from .cancel_all_after import CancelAllAfter
from .clock import Clock
from .deferred import DeferredQueue
from .funding import Bill, Schedule
from .instruments import Instrument
from .market import FEEDS, Market, PricePath
from .orders import Fill, IdSource, Order
from .quirks import Quirks

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# OKX's retention windows (facts sheet 6.6, 6.7). Orders count by cTime, fills by ts.
CANCELED_UNFILLED_KEPT_MS = 2 * HOUR_MS  # a canceled order without fills: about 2 h after it ended
HISTORY_KEPT_MS = 7 * DAY_MS  # orders-history
ARCHIVE_KEPT_MS = 92 * DAY_MS  # orders-history-archive and GET /trade/order: 3 months
FILLS_KEPT_MS = 3 * DAY_MS  # /trade/fills
FILLS_HISTORY_KEPT_MS = ARCHIVE_KEPT_MS  # /trade/fills-history

# cancelSource of an order the venue ended
CANCEL_BY_USER = "1"
CANCEL_FOK = "13"
CANCEL_IOC = "14"
CANCEL_POSITION_CLOSED = "17"
CANCEL_ALL_AFTER = "20"  # OKX's WS order channel doc: "cancel-all-after triggered"
CANCEL_POST_ONLY = "31"


class Book:
    """The venue's records and clock, and the reads of orders and fills over them."""

    def __init__(self, clock: Clock, seed: int, market: Market, balance: Decimal) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.uid = str(44705892343619584 + seed)
        self.market = market
        self._start_balance = balance
        self.ids = IdSource()
        self.quirks = Quirks()
        self._step_ms: int | None = None  # the matching step being carried out, if any
        self.watchers: list[Callable[[Order], None]] = []  # told of every order change, under the lock
        self.algo_watchers: list[Callable[[Algo], None]] = []  # told of every algo change, under the lock
        self.funding = Schedule()  # the funding times to come (none: funding is never charged)
        self.reset_account()

    def reset_account(self) -> None:
        self.account = Account(self._start_balance)
        self.orders: dict[str, Order] = {}  # every order, oldest first
        self.open: dict[str, Order] = {}  # the pending ones (live, partially_filled)
        self.fills: list[Fill] = []
        self.bills: list[Bill] = []  # the account bills of funding (fills carry their own billIds)
        self.deferred = DeferredQueue()  # requests accepted on arrival, applied later
        self.cancel_requested: dict[str, Order] = {}  # answered sCode 0, canceled at the next step
        self.caa_timers = CancelAllAfter()  # the dead man's switch: armed timers by tag

    def now_ms(self) -> int:
        """The clock, or during a matching step that step's time (what late requests are stamped with)."""
        return self.clock.now_ms() if self._step_ms is None else self._step_ms

    def path(self, inst_id: str) -> PricePath:
        return self.market.paths[inst_id]

    def mark(self, inst: Instrument) -> Decimal:
        return self.market.paths[inst.inst_id].px

    def feeds(self, inst: Instrument) -> dict[str, Decimal]:
        """The instrument's prices by OKX's name (triggerPxType): last, and mark / index set apart from it."""
        path = self.path(inst.inst_id)
        return {name: path.feed(name) for name in FEEDS}

    def resting(self, inst_id: str) -> list[Order]:
        return [o for o in self.open.values() if o.inst.inst_id == inst_id]

    def pending(self) -> list[Order]:
        return list(reversed(self.open.values()))

    def _changed(self, order: Order) -> None:
        """Tell the watchers (the private WebSocket channel) that an order was placed, filled or ended."""
        for watcher in self.watchers:
            watcher(order)

    def _terminate(self, order: Order, source: str) -> None:
        order.state = "canceled"
        order.cancel_source = source
        order.frozen = Decimal(0)
        order.u_time = self.now_ms()
        self.open.pop(order.ord_id, None)
        self._changed(order)

    def find_order(self, inst_id: str, ord_id: str | None, client_order_id: str | None) -> Order | None:
        """GET /trade/order: ordId wins, a clOrdId gives its latest order; only retained orders are found."""
        self.forget_expired()
        if ord_id is not None:
            matches = [self.orders[ord_id]] if ord_id in self.orders else []
        else:
            matches = [o for o in reversed(self.orders.values()) if o.client_order_id == client_order_id]
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

    def recent_fills(self, kept_ms: int) -> list[Fill]:
        """Fills of the last `kept_ms` (fills: 3 days, fills-history: 3 months), newest first."""
        self.forget_expired()
        now = self.now_ms()
        return list(takewhile(lambda f: now - f.ts <= kept_ms, reversed(self.fills)))
