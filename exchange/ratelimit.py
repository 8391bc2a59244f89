"""Client-side rate limits per OKX endpoint (facts sheet section 5), so we wait instead of hitting 50011.

Each budget is a sliding window: at most `limit` units in any `window_s` seconds, where a unit is a
request, or an order for the batch endpoints. The clock and the sleep are injected, so tests never
really wait.

Beside OKX's budgets, the trader's own: at most `orders_per_minute` orders placed, amended or cancelled
(ORDER_POSTS, counted by order) in any 60 s, over every endpoint and instrument of this process, the
hard limits file's max_orders_per_minute. The excess waits its turn: never dropped, never reordered (one
process sends its POSTs one after another).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class EndpointLimit:
    """`limit` units per `window_s`; `per_key` says the budget is kept per instrument (or instType, or
    Cancel All After's tag)."""

    limit: int
    per_key: bool
    window_s: float = 2.0


ENDPOINT_LIMITS: Mapping[str, EndpointLimit] = {
    "POST /api/v5/trade/order": EndpointLimit(60, per_key=True),
    "POST /api/v5/trade/batch-orders": EndpointLimit(300, per_key=True),
    "POST /api/v5/trade/cancel-order": EndpointLimit(60, per_key=True),
    "POST /api/v5/trade/cancel-batch-orders": EndpointLimit(300, per_key=True),
    "POST /api/v5/trade/close-position": EndpointLimit(20, per_key=True),
    "POST /api/v5/trade/cancel-all-after": EndpointLimit(1, per_key=True, window_s=1.0),  # per tag
    "GET /api/v5/trade/order": EndpointLimit(60, per_key=True),
    "GET /api/v5/trade/orders-pending": EndpointLimit(60, per_key=False),
    "GET /api/v5/trade/orders-history": EndpointLimit(40, per_key=False),
    "GET /api/v5/trade/orders-history-archive": EndpointLimit(20, per_key=False),
    "GET /api/v5/trade/fills": EndpointLimit(60, per_key=False),
    "GET /api/v5/trade/fills-history": EndpointLimit(10, per_key=False),
    "GET /api/v5/account/balance": EndpointLimit(10, per_key=False),
    "GET /api/v5/account/positions": EndpointLimit(10, per_key=False),
    "GET /api/v5/account/config": EndpointLimit(5, per_key=False),
    "GET /api/v5/account/leverage-info": EndpointLimit(20, per_key=False),
    "POST /api/v5/account/set-leverage": EndpointLimit(20, per_key=False),
    "GET /api/v5/public/instruments": EndpointLimit(20, per_key=True),
    "GET /api/v5/market/candles": EndpointLimit(40, per_key=False),
    "GET /api/v5/market/history-candles": EndpointLimit(20, per_key=False),
    "GET /api/v5/public/time": EndpointLimit(10, per_key=False),
    "POST /api/v5/trade/order-algo": EndpointLimit(20, per_key=True),
    "POST /api/v5/trade/amend-algos": EndpointLimit(20, per_key=True),
    "POST /api/v5/trade/cancel-algos": EndpointLimit(20, per_key=True),  # counted per algo
    "GET /api/v5/trade/order-algo": EndpointLimit(20, per_key=False),
    "GET /api/v5/trade/orders-algo-pending": EndpointLimit(20, per_key=False),
    "GET /api/v5/trade/orders-algo-history": EndpointLimit(20, per_key=False),
}

# The POSTs that place, amend or cancel orders (algo orders too): what the trader's order budget counts.
ORDER_POSTS = frozenset(
    {
        "POST /api/v5/trade/order",
        "POST /api/v5/trade/batch-orders",
        "POST /api/v5/trade/cancel-order",
        "POST /api/v5/trade/cancel-batch-orders",
        "POST /api/v5/trade/close-position",
        "POST /api/v5/trade/order-algo",
        "POST /api/v5/trade/amend-algos",
        "POST /api/v5/trade/cancel-algos",
    }
)
ORDER_WINDOW_S = 60.0
_ORDERS = ("orders per minute", None)  # the trader's budget's key among the endpoints'

# A batch carrying one order is counted by OKX against the single-order endpoint.
_SINGLE_ORDER_ENDPOINT = {
    "POST /api/v5/trade/batch-orders": "POST /api/v5/trade/order",
    "POST /api/v5/trade/cancel-batch-orders": "POST /api/v5/trade/cancel-order",
}


class RateLimiter:
    """Blocks (through the injected sleep) until the endpoint's budget has room."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float],
        sleep: Callable[[float], None],
        limits: Mapping[str, EndpointLimit] = ENDPOINT_LIMITS,
        orders_per_minute: int | None = None,
    ) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._limits = limits
        self._spent: dict[tuple[str, str | None], deque[tuple[float, int]]] = {}
        if orders_per_minute is not None and orders_per_minute < 1:
            raise ValueError(f"orders_per_minute must be at least 1, got {orders_per_minute}")
        self._orders = (
            None if orders_per_minute is None else EndpointLimit(orders_per_minute, False, ORDER_WINDOW_S)
        )

    def room_for_orders(self, units: int) -> float:
        """Wait until the trader's order budget has room for `units` orders, spending nothing; returns
        the seconds waited. Called before a request's deadline is set, so the wait does not use it up."""
        if self._orders is None:
            return 0.0
        return self._wait(_ORDERS, self._orders, units, spend=False)

    def acquire(self, endpoint: str, key: str | None = None, units: int = 1) -> float:
        """Spend `units` of `endpoint`'s budget ("POST /api/v5/...") and, for an order POST, of the
        trader's order budget; returns the seconds waited."""
        waited = 0.0
        if self._orders is not None and endpoint in ORDER_POSTS:
            waited += self._wait(_ORDERS, self._orders, units, spend=True)
        if units == 1:
            endpoint = _SINGLE_ORDER_ENDPOINT.get(endpoint, endpoint)
        rule = self._limits.get(endpoint)
        if rule is None:
            return waited
        return waited + self._wait((endpoint, key if rule.per_key else None), rule, units, spend=True)

    def _wait(self, bucket: tuple[str, str | None], rule: EndpointLimit, units: int, *, spend: bool) -> float:
        """Sleep until `bucket` has room for `units` under `rule` (then spend them, with `spend`)."""
        if units > rule.limit:
            raise ValueError(f"{bucket[0]}: {units} units exceed the whole budget of {rule.limit}")
        spent = self._spent.setdefault(bucket, deque())
        waited = 0.0
        while True:
            now = self._monotonic()
            while spent and spent[0][0] <= now - rule.window_s:
                spent.popleft()
            if sum(n for _, n in spent) + units <= rule.limit:
                if spend:
                    spent.append((now, units))
                return waited
            delay = spent[0][0] + rule.window_s - now
            self._sleep(delay)
            waited += delay
