"""Typed OKX records (frozen dataclasses with OKX's own field names) and their parsers.

Conventions: ids stay `str`, numbers become `Decimal`, times are `int` ms, OKX's `""` becomes `None`,
and each record keeps `raw`, the OKX object exactly as received (the journal's evidence). Parsers
ignore fields they do not know (OKX adds fields); a missing or mistyped field they need raises
`OkxInvalidPayload` naming the record and the field.
"""

from exchange.records.account import (
    AccountConfig,
    Balance,
    BalanceDetail,
    Leverage,
    Position,
    parse_account_config,
    parse_balance,
    parse_leverage,
    parse_position,
)
from exchange.records.algos import ALGO_PENDING_STATES, ALGO_STATES, MARKET_PX, OkxAlgoOrder, parse_algo_order
from exchange.records.market import (
    Candle,
    Instrument,
    parse_candle,
    parse_candle_row,
    parse_instrument,
    parse_server_time,
)
from exchange.records.orders import (
    ORDER_STATES,
    SIDES,
    OkxCancelAllAfter,
    OkxFill,
    OkxOrder,
    OkxOrderAck,
    parse_ack,
    parse_cancel_all_after,
    parse_fill,
    parse_order,
)

__all__ = [
    "ALGO_PENDING_STATES",
    "ALGO_STATES",
    "MARKET_PX",
    "ORDER_STATES",
    "SIDES",
    "AccountConfig",
    "Balance",
    "BalanceDetail",
    "Candle",
    "Instrument",
    "Leverage",
    "OkxAlgoOrder",
    "OkxCancelAllAfter",
    "OkxFill",
    "OkxOrder",
    "OkxOrderAck",
    "Position",
    "parse_account_config",
    "parse_ack",
    "parse_algo_order",
    "parse_balance",
    "parse_cancel_all_after",
    "parse_candle",
    "parse_candle_row",
    "parse_fill",
    "parse_instrument",
    "parse_leverage",
    "parse_order",
    "parse_position",
    "parse_server_time",
]
