"""ExchangeView: what OKX says, asked lazily and at most once per endpoint per tick.

One view is made per tick and shared by every machine in the run, so one orders-pending call serves
them all. Guards read only through a view; a view never POSTs. Exchange time is the local clock plus
the offset last measured from /api/v5/public/time: a run's views share one `TimeSync`, which measures
again every few minutes (the client also re-measures on 50102), so a quiet tick does not pay for it.
A view made `full` is a periodic full reconcile: the observers ask every endpoint they could need.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from exchange import (
    AccountConfig,
    Candle,
    Instrument,
    Leverage,
    OkxAlgoOrder,
    OkxFill,
    OkxOrder,
    OkxOrderNotFound,
    Position,
)

T = TypeVar("T")


class ReadClient(Protocol):
    """The read half of `exchange.OkxClient` that a view needs."""

    def sync_time(self) -> int: ...

    def now_ms(self) -> int: ...

    def wait_for_order_room(self, orders: int) -> None: ...

    def list_open_orders(self, symbol: str | None) -> list[OkxOrder]: ...

    def get_order(
        self, symbol: str, ord_id: str | None = None, client_order_id: str | None = None
    ) -> OkxOrder: ...

    def list_fills_since(
        self, symbol: str, bill_id: str | None, begin_ms: int | None = None
    ) -> list[OkxFill]: ...

    def find_order_in_history(self, symbol: str, ord_id: str) -> OkxOrder | None: ...

    def list_orders_history(
        self,
        symbol: str,
        *,
        archive: bool = False,
        after: str | None = None,
        before: str | None = None,
        limit: int = 100,
    ) -> list[OkxOrder]: ...

    def get_account_config(self) -> AccountConfig: ...

    def get_leverage(self, symbol: str, mgn_mode: str) -> list[Leverage]: ...

    def get_positions(self, symbol: str | None = None) -> list[Position]: ...

    def get_candles(self, symbol: str, bar: str, limit: int = 100) -> list[Candle]: ...

    def get_instrument(self, symbol: str) -> Instrument: ...

    def list_pending_algos(self, symbol: str | None, ord_type: str = ...) -> list[OkxAlgoOrder]: ...

    def get_algo_order(
        self, algo_id: str | None = None, algo_client_order_id: str | None = None
    ) -> OkxAlgoOrder: ...


@dataclass
class TimeSync:
    """When exchange time was last measured (monotonic seconds); shared by the views of one run."""

    interval_s: float = 300.0
    last: float | None = None
    clock: Callable[[], float] = time.monotonic
    # The client's clock is the exchange's own (a replay's client reads the simulator's clock): once
    # measured, the offset cannot drift, and not even a full reconcile measures it again.
    exact: bool = False

    def due(self) -> bool:
        if self.last is None:
            return True
        return not self.exact and self.clock() - self.last >= self.interval_s

    def measured(self) -> None:
        self.last = self.clock()


class ExchangeView:
    """A memoised, read-only window on the venue for one tick."""

    def __init__(
        self,
        client: ReadClient,
        *,
        instruments: dict[str, Instrument] | None = None,
        time_sync: TimeSync | None = None,
        full: bool = True,
    ) -> None:
        self._client = client
        self._memo: dict[tuple[object, ...], object] = {}
        # Instruments change rarely; a run shares one cache across ticks.
        self._instruments = instruments if instruments is not None else {}
        # Without a shared TimeSync (a one-off command) the first use of the time measures it.
        self._time_sync = time_sync if time_sync is not None else TimeSync()
        self.full = full  # a full reconcile: observers ask every endpoint, not only what changed
        self.calls: Counter[str] = Counter()

    def _once(self, key: tuple[object, ...], fetch: Callable[[], T]) -> T:
        if key not in self._memo:
            self.calls[str(key[0])] += 1
            self._memo[key] = fetch()
        return self._memo[key]  # type: ignore[return-value]

    def fetched(self, endpoint: str) -> bool:
        """Whether this tick has already asked `endpoint` (for 'observed' displays)."""
        return self.calls[endpoint] > 0

    def now_ms(self) -> int:
        """Exchange time, fixed for the tick: measured from /api/v5/public/time when the shared sync is
        due or the view is a full reconcile (which also re-syncs signing, unless the sync is exact),
        else local clock + offset."""
        if ("time",) not in self._memo:
            if (self.full and not self._time_sync.exact) or self._time_sync.due():
                self.calls["time"] += 1
                self._client.sync_time()
                self._time_sync.measured()
            self._memo[("time",)] = self._client.now_ms()
        return self._memo[("time",)]  # type: ignore[return-value]

    def send_time_ms(self, orders: int = 1) -> int:
        """Exchange time at the send of `orders` orders (local clock + measured offset), not the tick's
        fixed time: an expTime deadline starts at the send, so neither a slow tick (a read retried with
        backoff) nor the wait for the trader's order budget (max_orders_per_minute) uses it up."""
        self._client.wait_for_order_room(orders)
        return max(self._client.now_ms(), self.now_ms())

    def source_of(self, record: OkxOrder | OkxAlgoOrder | None) -> str:
        """Where a record this view gave came from: "rest" here (a push view also says "push")."""
        return "rest"

    def pushed_algo(self, algo_client_order_id: str) -> OkxAlgoOrder | None:
        """The newest pushed record of one algo of ours since the last full reconcile: none here (a push
        view has them). Only news that makes a quiet stop worth asking about; REST stays the authority."""
        return None

    def fetched_pending(self) -> list[OkxOrder] | None:
        """The orders-pending answer this view fetched (None when it asked none)."""
        return self._memo.get(("orders-pending",))  # type: ignore[return-value]

    def pending_orders(self, symbol: str) -> dict[str, OkxOrder]:
        """Pending orders of `symbol` keyed by ordId (one call for every symbol of the account)."""
        return {o.ordId: o for o in ExchangeView.venue_pending_all(self) if o.instId == symbol}

    def venue_pending_orders(self, symbol: str) -> dict[str, OkxOrder]:
        """Pending orders of `symbol` as REST answers them in this tick, whatever a subclass makes of
        `pending_orders`: what a check that refuses or sends relies on."""
        return ExchangeView.pending_orders(self, symbol)

    def venue_pending_all(self) -> list[OkxOrder]:
        """Every pending order of the account as REST answers it in this tick (the same one call)."""
        return self._once(("orders-pending",), lambda: self._client.list_open_orders(None))

    def order(self, symbol: str, client_order_id: str) -> OkxOrder | None:
        """Order details by clOrdId, or None when OKX says 51603 (does not exist)."""

        def fetch() -> OkxOrder | None:
            try:
                return self._client.get_order(symbol, client_order_id=client_order_id)
            except OkxOrderNotFound:
                return None

        return self._once(("order", symbol, client_order_id), fetch)

    def order_by_id(self, symbol: str, ord_id: str) -> OkxOrder | None:
        """Order details by ordId (a fired stop's child order), or None when OKX says it does not exist."""

        def fetch() -> OkxOrder | None:
            try:
                return self._client.get_order(symbol, ord_id=ord_id)
            except OkxOrderNotFound:
                return None

        return self._once(("order-by-id", symbol, ord_id), fetch)

    def pending_algos(self, symbol: str) -> dict[str, OkxAlgoOrder]:
        """Untriggered TP/SL algos of `symbol` by algoClOrdId (one call for every symbol)."""
        everything = self._once(("orders-algo-pending",), lambda: self._client.list_pending_algos(None))
        return {a.algoClOrdId: a for a in everything if a.instId == symbol and a.algoClOrdId}

    def algo(self, algo_id: str | None, algo_client_order_id: str) -> OkxAlgoOrder | None:
        """One algo in any state, by algoId when known (else by algoClOrdId), or None when OKX does not
        know it."""

        def fetch() -> OkxAlgoOrder | None:
            try:
                return self._client.get_algo_order(algo_id or None, algo_client_order_id)
            except OkxOrderNotFound:
                return None

        return self._once(("order-algo", algo_id, algo_client_order_id), fetch)

    def fills_since(self, symbol: str, bill_id: str | None, begin_ms: int | None = None) -> list[OkxFill]:
        """Fills after the billId cursor and from begin_ms (fills-history when that is over 3 days ago)."""
        return self._once(
            ("fills", symbol, bill_id, begin_ms),
            lambda: self._client.list_fills_since(symbol, bill_id, begin_ms),
        )

    def order_in_history(self, symbol: str, ord_id: str) -> OkxOrder | None:
        """An ended order from orders-history or its archive, or None when neither keeps it."""
        return self._once(
            ("orders-history", symbol, ord_id), lambda: self._client.find_order_in_history(symbol, ord_id)
        )

    def recent_history(self, symbol: str) -> list[OkxOrder]:
        """The newest page of ended orders of `symbol` (orders-history, last 7 days)."""
        return self._once(("orders-history-page", symbol), lambda: self._client.list_orders_history(symbol))

    def account_config(self) -> AccountConfig:
        """posMode and acctLv, read at most once per tick."""
        return self._once(("account-config",), self._client.get_account_config)

    def leverage(self, symbol: str, mgn_mode: str) -> list[Leverage]:
        return self._once(("leverage", symbol, mgn_mode), lambda: self._client.get_leverage(symbol, mgn_mode))

    def forget(self, *key: object) -> None:
        """Drop a memoised answer, so the next ask reads OKX again (after this tick changed it)."""
        self._memo.pop(key, None)

    def positions(self) -> list[Position]:
        """Every position of the account, read at most once per tick."""
        return self._once(("positions",), lambda: self._client.get_positions(None))

    def position(self, symbol: str, pos_side: str) -> Position | None:
        """The position of `symbol` on `pos_side`, or None when OKX shows none."""
        return next((p for p in self.positions() if p.instId == symbol and p.posSide == pos_side), None)

    def candles(self, symbol: str, bar: str, limit: int) -> list[Candle]:
        return self._once(("candles", symbol, bar), lambda: self._client.get_candles(symbol, bar, limit))

    def instrument(self, symbol: str) -> Instrument:
        if symbol not in self._instruments:
            self.calls["instrument"] += 1
            self._instruments[symbol] = self._client.get_instrument(symbol)
        return self._instruments[symbol]
