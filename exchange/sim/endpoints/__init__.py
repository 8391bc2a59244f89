"""The OKX v5 REST endpoints: read the request's parameters, ask the venue, answer in OKX's shape.

Each handler runs with the venue's lock held and the market synced to the clock (for a request
applied late: when it is applied, with the call as it arrived). This module routes "METHOD path" to
its handler: public.py, trading.py, algos.py, orders.py and account.py hold them, call.py what they are given.
"""

from .account import (
    account_config,
    balance,
    leverage_info,
    positions,
    set_account_level,
    set_leverage,
    set_position_mode,
)
from .algos import amend_algos, cancel_algos, get_algo, orders_algo_history, orders_algo_pending, place_algo
from .call import Handler
from .orders import fills, fills_history, get_order, orders_history, orders_history_archive, orders_pending
from .public import candles, history_candles, instruments, price_limit, public_time, ticker
from .trading import cancel_all_after, cancel_batch, cancel_order, close_position, place_batch, place_order

EXP_TIME_ENDPOINTS = frozenset({"POST /api/v5/trade/order", "POST /api/v5/trade/batch-orders"})

ROUTES: dict[str, tuple[Handler, bool]] = {
    # "METHOD path": (handler, private)
    "GET /api/v5/public/time": (public_time, False),
    "GET /api/v5/public/instruments": (instruments, False),
    "GET /api/v5/market/candles": (candles, False),
    "GET /api/v5/market/ticker": (ticker, False),
    "GET /api/v5/public/price-limit": (price_limit, False),
    "POST /api/v5/trade/order": (place_order, True),
    "POST /api/v5/trade/batch-orders": (place_batch, True),
    "POST /api/v5/trade/cancel-order": (cancel_order, True),
    "POST /api/v5/trade/cancel-batch-orders": (cancel_batch, True),
    "POST /api/v5/trade/close-position": (close_position, True),
    "POST /api/v5/trade/cancel-all-after": (cancel_all_after, True),
    "GET /api/v5/trade/order": (get_order, True),
    "GET /api/v5/trade/orders-pending": (orders_pending, True),
    "GET /api/v5/trade/orders-history": (orders_history, True),
    "GET /api/v5/trade/orders-history-archive": (orders_history_archive, True),
    "GET /api/v5/trade/fills": (fills, True),
    "GET /api/v5/trade/fills-history": (fills_history, True),
    "GET /api/v5/account/balance": (balance, True),
    "GET /api/v5/account/positions": (positions, True),
    "GET /api/v5/account/config": (account_config, True),
    "POST /api/v5/account/set-position-mode": (set_position_mode, True),
    "POST /api/v5/account/set-account-level": (set_account_level, True),
    "POST /api/v5/account/set-leverage": (set_leverage, True),
    "GET /api/v5/account/leverage-info": (leverage_info, True),
    "GET /api/v5/market/history-candles": (history_candles, False),
    "POST /api/v5/trade/order-algo": (place_algo, True),
    "POST /api/v5/trade/amend-algos": (amend_algos, True),
    "POST /api/v5/trade/cancel-algos": (cancel_algos, True),
    "GET /api/v5/trade/orders-algo-pending": (orders_algo_pending, True),
    "GET /api/v5/trade/orders-algo-history": (orders_algo_history, True),
    "GET /api/v5/trade/order-algo": (get_algo, True),
}
