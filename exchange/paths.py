"""The OKX v5 REST paths OkxClient calls."""

ORDER = "/api/v5/trade/order"  # GET one order, POST one new order
BATCH_ORDERS = "/api/v5/trade/batch-orders"
CANCEL_ORDER = "/api/v5/trade/cancel-order"
CANCEL_BATCH_ORDERS = "/api/v5/trade/cancel-batch-orders"
CLOSE_POSITION = "/api/v5/trade/close-position"
ORDERS_PENDING = "/api/v5/trade/orders-pending"
ORDERS_HISTORY = "/api/v5/trade/orders-history"
ORDERS_HISTORY_ARCHIVE = "/api/v5/trade/orders-history-archive"
FILLS = "/api/v5/trade/fills"
FILLS_HISTORY = "/api/v5/trade/fills-history"
BALANCE = "/api/v5/account/balance"
POSITIONS = "/api/v5/account/positions"
ACCOUNT_CONFIG = "/api/v5/account/config"
LEVERAGE_INFO = "/api/v5/account/leverage-info"
SET_LEVERAGE = "/api/v5/account/set-leverage"
INSTRUMENTS = "/api/v5/public/instruments"
CANDLES = "/api/v5/market/candles"
CANDLES_MAX = 300  # the most candles one request returns (its `limit`)
HISTORY_CANDLES = "/api/v5/market/history-candles"
HISTORY_CANDLES_MAX = 100  # its `limit` (OKX's docs: max 100; the facts sheet is silent: a guess)
SERVER_TIME = "/api/v5/public/time"
ORDER_ALGO = "/api/v5/trade/order-algo"  # GET one algo, POST one new algo
AMEND_ALGOS = "/api/v5/trade/amend-algos"
CANCEL_ALGOS = "/api/v5/trade/cancel-algos"
ORDERS_ALGO_PENDING = "/api/v5/trade/orders-algo-pending"
ORDERS_ALGO_HISTORY = "/api/v5/trade/orders-algo-history"
