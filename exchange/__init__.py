"""OKX v5 REST: signing, transport, typed records (orders, algo orders), error classes, payload rendering,
contract sizing.

`OkxClient` is imported when first asked for (it pulls in `requests`), so a command that only reads
local files (status, check, history, --help) never loads the HTTP stack.
"""

from typing import TYPE_CHECKING

from exchange.errors import (
    OkxAmbiguousOutcome,
    OkxApiError,
    OkxAuthError,
    OkxDuplicateClOrdId,
    OkxError,
    OkxIncorrectOrderState,
    OkxInsufficientBalance,
    OkxInvalidPayload,
    OkxInvalidRequest,
    OkxInvalidSizeOrPrice,
    OkxNotArmed,
    OkxOrderNotFound,
    OkxRateLimited,
    OkxServiceUnavailable,
    OkxStopPriceRefused,
    OkxTimestampError,
    OkxTransportError,
)
from exchange.payloads import (
    amend_algo_body,
    build_client_order_id,
    cancel_algo_item,
    cancel_item,
    close_position_body,
    order_body,
    render_eth_entry_batch_payloads,
    render_ladder_rung_payload,
    render_post_only_limit_order_payload,
    render_stop_payload,
    set_leverage_body,
    stop_trigger_price,
)
from exchange.records import (
    AccountConfig,
    Balance,
    BalanceDetail,
    Candle,
    Instrument,
    Leverage,
    OkxAlgoOrder,
    OkxCancelAllAfter,
    OkxFill,
    OkxOrder,
    OkxOrderAck,
    Position,
)
from exchange.sizing import build_contract_size

if TYPE_CHECKING:
    from exchange.client import OkxClient


def __getattr__(name: str) -> object:
    if name == "OkxClient":
        from exchange.client import OkxClient

        return OkxClient
    raise AttributeError(f"module 'exchange' has no attribute {name!r}")


__all__ = [
    "AccountConfig",
    "Balance",
    "BalanceDetail",
    "Candle",
    "Instrument",
    "Leverage",
    "OkxAlgoOrder",
    "OkxAmbiguousOutcome",
    "OkxApiError",
    "OkxAuthError",
    "OkxCancelAllAfter",
    "OkxClient",
    "OkxDuplicateClOrdId",
    "OkxError",
    "OkxFill",
    "OkxIncorrectOrderState",
    "OkxInsufficientBalance",
    "OkxInvalidPayload",
    "OkxInvalidRequest",
    "OkxInvalidSizeOrPrice",
    "OkxNotArmed",
    "OkxOrder",
    "OkxOrderAck",
    "OkxOrderNotFound",
    "OkxRateLimited",
    "OkxServiceUnavailable",
    "OkxStopPriceRefused",
    "OkxTimestampError",
    "OkxTransportError",
    "Position",
    "amend_algo_body",
    "build_client_order_id",
    "build_contract_size",
    "cancel_algo_item",
    "cancel_item",
    "close_position_body",
    "order_body",
    "render_eth_entry_batch_payloads",
    "render_ladder_rung_payload",
    "render_post_only_limit_order_payload",
    "render_stop_payload",
    "set_leverage_body",
    "stop_trigger_price",
]
