"""Push updates for the runner: OKX's private `orders` channel makes ticks come sooner; REST stays the
authority.

A `PushFeed` reads the channel in a thread of its own and keeps the newest pushed record of every
order, waking the runner when one arrives. Between REST reconciles the runner ticks through a
`PushView`: orders-pending is the last REST answer brought up to date by the pushes, and an order
that a push shows ended is taken from the push; everything else (fills, positions, history) is still
asked of REST when the tick needs it, and so is the pending list that a check which refuses or sends
reads (`venue_pending_orders`: the orphan check before a cycle's first send). A push that is lost or
late is healed by the next full REST reconcile: every `push_reconcile_s` and after every reconnect of
the stream. Each full reconcile also drops the pushed records received before it began: REST's answer
says at least as much, and kept, a live record whose ending push was lost would show that order
working for ever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from exchange import OkxAuthError, OkxError, OkxOrder, OkxTimestampError
from exchange.records.orders import OKX_PENDING_STATES
from exchange.ws import OkxPrivateStream
from fsm.engine.view import ExchangeView, ReadClient, TimeSync

log = logging.getLogger("okx_fsm.push")
RECEIVE_S = 0.5  # how long one read waits, so a stop is noticed soon


class PushFeed:
    """The private orders channel, read in a thread; the newest pushed record of each order."""

    def __init__(self, stream: OkxPrivateStream[OkxOrder], *, on_push: Callable[[OkxOrder], None]) -> None:
        self._stream = stream
        self._on_push = on_push
        self._lock = threading.Lock()
        self._orders: dict[str, tuple[int, OkxOrder]] = {}  # ordId -> (the push's number, its record)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="okx-fsm-push", daemon=True)
        self._seen_reconnects = 0
        self.failed: str | None = None  # why the feed stopped for good (a refused login)
        self.pushes = 0

    @property
    def connected(self) -> bool:
        return self._stream.connected and self.failed is None

    @property
    def reconnects(self) -> int:
        return self._stream.reconnects

    @property
    def last_push_at(self) -> int | None:
        return self._stream.last_push_at

    def start(self) -> None:
        """Connect and read in the feed's thread. A refused key or passphrase is the caller's error
        (nothing is read without them); anything else (the venue down, a login time it could not
        measure, a timestamp refused) is logged, and the thread keeps trying as after a drop while
        REST carries on: a service does not stop at an outage."""
        try:
            self._stream.connect()
        except OkxError as exc:
            if isinstance(exc, OkxAuthError) and not isinstance(exc, OkxTimestampError):
                raise
            log.warning("push: not connected yet, REST carries on: %s: %s", type(exc).__name__, exc)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self._stream.close()

    def orders(self) -> dict[str, OkxOrder]:
        """The newest pushed record of every order, by ordId."""
        with self._lock:
            return {k: order for k, (_, order) in self._orders.items()}

    def mark(self) -> int:
        """How many pushes have been received: `forget_received_before` takes it."""
        with self._lock:
            return self.pushes

    def forget_received_before(self, mark: int) -> None:
        """Drop the records received before `mark`: a full REST reconcile was asked after them."""
        with self._lock:
            self._orders = {k: kept for k, kept in self._orders.items() if kept[0] >= mark}

    def resync_due(self) -> bool:
        """True once after each reconnect: what the stream missed meanwhile must be asked of REST."""
        if self.reconnects == self._seen_reconnects:
            return False
        self._seen_reconnects = self.reconnects
        return True

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                order = self._stream.receive(RECEIVE_S)
            except OkxTimestampError as exc:  # clocks apart now: a later login may hold
                log.warning("push: %s: %s", type(exc).__name__, exc)
                self._stop.wait(1.0)
                continue
            except OkxAuthError as exc:
                self.failed = f"{type(exc).__name__}: {exc}"
                log.error("push stopped: %s", self.failed)
                return
            except OkxError as exc:  # reconnects gave up, or a malformed push: REST carries on
                log.warning("push: %s: %s", type(exc).__name__, exc)
                self._stop.wait(1.0)
                continue
            if order is None:
                continue
            with self._lock:
                known = self._orders.get(order.ordId)
                if known is None or (order.uTime or 0) >= (known[1].uTime or 0):
                    self._orders[order.ordId] = (self.pushes, order)
                self.pushes += 1
            self._on_push(order)


class PushView(ExchangeView):
    """A tick's view between REST reconciles: orders from the last REST answer and the pushes since."""

    def __init__(
        self,
        client: ReadClient,
        *,
        pending: list[OkxOrder],
        pushed: Mapping[str, OkxOrder],
        time_sync: TimeSync | None = None,
    ) -> None:
        super().__init__(client, time_sync=time_sync, full=False)
        self._pushed = pushed
        book = {o.ordId: o for o in pending}
        for ord_id, order in pushed.items():
            newer = ord_id not in book or (order.uTime or 0) >= (book[ord_id].uTime or 0)
            if newer:
                book[ord_id] = order
        self._book = [o for o in book.values() if o.state in OKX_PENDING_STATES]

    def pending_orders(self, symbol: str) -> dict[str, OkxOrder]:
        return {o.ordId: o for o in self._book if o.instId == symbol}

    def order(self, symbol: str, client_order_id: str) -> OkxOrder | None:
        """An order a push showed ended is taken from the push; any other is asked of REST."""
        for order in self._pushed.values():
            if (
                order.clOrdId == client_order_id
                and order.instId == symbol
                and order.state not in OKX_PENDING_STATES
            ):
                return order
        return super().order(symbol, client_order_id)

    def source_of(self, order: OkxOrder | None) -> str:
        return "push" if order is not None and any(order is o for o in self._pushed.values()) else "rest"
