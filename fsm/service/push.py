"""Push updates for the runner: OKX's private `orders` channel, and `orders-algo` where a machine declares
a stop, make ticks come sooner; REST stays the authority.

A `PushFeed` reads one channel in a thread of its own and keeps the newest pushed record of every order
(by ordId) or algo (by algoClOrdId), waking the runner when one arrives. Between REST reconciles the
runner ticks through a `PushView`: orders-pending is the last REST answer brought up to date by the
pushes, and an order or algo that a push shows ended is taken from the push; everything else (fills,
positions, history, the pending algos) is still asked of REST when the tick needs it, and so is the
pending list that a check which refuses or sends reads (`venue_pending_orders`: the orphan check before
a cycle's first send). A pushed algo that ended also makes its stop's next observation happen (the stop
is no longer quiet). A push that is lost or late is healed by the next full REST reconcile: every
`push_reconcile_s` and after every reconnect of either stream (OKX replays nothing, and pushes nothing
on subscribe). Each full reconcile also drops the pushed records received before it began: REST's
answer says at least as much, and kept, a live record whose ending push was lost would show that order
working for ever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Generic, Protocol, TypeVar

from exchange import OkxAlgoOrder, OkxAuthError, OkxError, OkxOrder, OkxTimestampError
from exchange.records.orders import OKX_PENDING_STATES
from exchange.ws import OkxPrivateStream
from fsm.engine.view import ExchangeView, ReadClient, TimeSync

log = logging.getLogger("okx_fsm.push")
RECEIVE_S = 0.5  # how long one read waits, so a stop is noticed soon
_FIRED = frozenset({"effective", "partially_effective"})  # OKX's algo states once its child order is placed


class Pushed(Protocol):
    """A pushed record: the newest of one order or algo is the one OKX updated last."""

    @property
    def uTime(self) -> int: ...


P = TypeVar("P", bound=Pushed)


class PushFeed(Generic[P]):
    """One private channel, read in a thread; the newest pushed record of each order or algo, by `key`
    (records without one, an algo placed by hand with no algoClOrdId, are not ours: skipped)."""

    def __init__(
        self,
        stream: OkxPrivateStream[P],
        *,
        key: Callable[[P], str | None],
        on_push: Callable[[P], None],
    ) -> None:
        self._stream = stream
        self._key = key
        self._on_push = on_push
        self._lock = threading.Lock()
        self._records: dict[str, tuple[int, P]] = {}  # key -> (the push's number, its record)
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

    def records(self) -> dict[str, P]:
        """The newest pushed record of every order or algo, by key."""
        with self._lock:
            return {k: record for k, (_, record) in self._records.items()}

    def mark(self) -> int:
        """How many pushes have been received: `forget_received_before` takes it."""
        with self._lock:
            return self.pushes

    def forget_received_before(self, mark: int) -> None:
        """Drop the records received before `mark`: a full REST reconcile was asked after them."""
        with self._lock:
            self._records = {k: kept for k, kept in self._records.items() if kept[0] >= mark}

    @property
    def reconnected(self) -> bool:
        """The stream reconnected since `resync_due` last said so (the runner's wait ends for it)."""
        return self.reconnects != self._seen_reconnects

    def resync_due(self) -> bool:
        """True once after each reconnect: what the stream missed meanwhile must be asked of REST."""
        if not self.reconnected:
            return False
        self._seen_reconnects = self.reconnects
        return True

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                record = self._stream.receive(RECEIVE_S)
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
            if record is None:
                continue
            key = self._key(record)
            if not key:
                continue
            with self._lock:
                known = self._records.get(key)
                if known is None or (record.uTime or 0) >= (known[1].uTime or 0):
                    self._records[key] = (self.pushes, record)
                self.pushes += 1
            self._on_push(record)


def order_feed(stream: OkxPrivateStream[OkxOrder], on_push: Callable[[OkxOrder], None]) -> PushFeed[OkxOrder]:
    """The `orders` channel's feed: the newest record of each order, by ordId."""
    return PushFeed(stream, key=lambda order: order.ordId, on_push=on_push)


def algo_feed(
    stream: OkxPrivateStream[OkxAlgoOrder], on_push: Callable[[OkxAlgoOrder], None]
) -> PushFeed[OkxAlgoOrder]:
    """The `orders-algo` channel's feed: the newest record of each algo, by algoClOrdId."""
    return PushFeed(stream, key=lambda algo: algo.algoClOrdId, on_push=on_push)


class PushView(ExchangeView):
    """A tick's view between REST reconciles: orders from the last REST answer and the pushes since;
    algos from REST, but for those a push showed ended."""

    def __init__(
        self,
        client: ReadClient,
        *,
        pending: list[OkxOrder],
        pushed: Mapping[str, OkxOrder],
        pushed_algos: Mapping[str, OkxAlgoOrder] | None = None,
        time_sync: TimeSync | None = None,
    ) -> None:
        super().__init__(client, time_sync=time_sync, full=False)
        self._pushed = pushed
        self._pushed_algos = pushed_algos or {}
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

    def pushed_algo(self, algo_client_order_id: str) -> OkxAlgoOrder | None:
        return self._pushed_algos.get(algo_client_order_id)

    def algo(self, algo_id: str | None, algo_client_order_id: str) -> OkxAlgoOrder | None:
        """An algo a push showed ended (canceled, fired, failed) is taken from the push; any other is
        asked of REST, and so is a fired one whose push names no child order (a fired stop's algo is
        never asked again: its child orders must be known)."""
        pushed = self._pushed_algos.get(algo_client_order_id)
        if pushed is not None and not pushed.pending and (pushed.ordIdList or pushed.state not in _FIRED):
            return pushed
        return super().algo(algo_id, algo_client_order_id)

    def source_of(self, record: OkxOrder | OkxAlgoOrder | None) -> str:
        if record is None:
            return "rest"
        pushed = (*self._pushed.values(), *self._pushed_algos.values())
        return "push" if any(record is r for r in pushed) else "rest"
