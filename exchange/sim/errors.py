"""OKX result codes the simulator answers with, their texts and HTTP statuses, as two exception kinds."""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    "50000": "Body for POST request cannot be empty.",
    "50001": "Service temporarily unavailable. Please try again later.",
    "50002": "JSON syntax error",
    "50004": "Endpoint request timeout. ",
    "50006": 'Invalid Content-Type. Please use "application/JSON".',
    "50011": "Too Many Requests",
    "50026": "System error. Try again later",
    "50036": (
        "The expTime can't be earlier than the current system time. Please adjust the expTime and try again."
    ),
    "50037": "Order expired.",
    "50101": "APIKey does not match current environment",
    "50102": "Timestamp request expired",
    "50103": 'Request header "OK-ACCESS-KEY" cannot be empty',
    "50104": 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty',
    "50105": 'Request header "OK-ACCESS-PASSPHRASE" incorrect',
    "50106": 'Request header "OK-ACCESS-SIGN" cannot be empty',
    "50107": 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty',
    "50111": "Invalid OK-ACCESS-KEY",
    "50112": "Invalid OK-ACCESS-TIMESTAMP",
    "50113": "Invalid Sign",
    "50115": "Invalid request method",
    "51001": "Instrument ID, Instrument ID code or Spread ID doesn't exist.",
    "51003": "Either client order ID or order ID is required.",
    "51046": "The take profit trigger price must be higher than the order price",
    "51047": "The stop loss trigger price must be lower than the order price",
    "51048": "The take profit trigger price must be lower than the order price",
    "51049": "The stop loss trigger price must be higher than the order price",
    "51050": "The take profit trigger price must be higher than the best ask price",
    "51051": "The stop loss trigger price must be lower than the best ask price",
    "51052": "The take profit trigger price must be lower than the best bid price",
    "51053": "The stop loss trigger price must be higher than the best bid price",
    "51058": "No available position for this algo order",
    "51063": "OrdId does not exist",
    "51065": "algoClOrdId already exists.",
    "51008": "Order failed. Insufficient USDT margin in account",
    "51010": "Request unsupported under current account mode",
    "51016": "Client order ID already exists.",
    "51020": "Your order should meet or exceed the minimum order amount.",
    "51023": "Position doesn't exist.",
    "51041": "Portfolio margin account only supports net mode.",
    "51071": "The maximum number of tag-level cancel all after timers has been reached.",  # text guessed
    "51088": "You can only place 1 TP/SL order to close an entire position",
    "51100": "Unable to place order. Take profit/Stop loss conditions cannot be added to reduce-only orders.",
    "51111": "Maximum 20 orders can be placed in bulk.",
    "51112": "Close order size exceeds available size for this position.",
    "51115": "Cancel all pending close-orders before liquidation.",
    "51120": "Order quantity is less than 0.01. Please try again.",
    "51121": "Order quantity must be a multiple of the lot size.",
    "51134": "Closing failed. Please check your holdings and pending orders.",
    "51148": "ReduceOnly cannot increase the position quantity.",
    "51169": (
        "Order failed because you don't have any positions in this direction "
        "for this contract to reduce or close."
    ),
    "51170": (
        "Failed to place order. A reduce-only order can't be the same trading direction "
        "as your existing positions."
    ),
    "51202": "Market order amount exceeds the maximum amount.",
    "51204": "The price for the limit order cannot be empty.",
    "51275": "The amount of single stop-market order cannot exceed the upper limit.",
    "51277": "TP trigger price cannot be higher than the last price.",
    "51278": "SL trigger price cannot be lower than the last price.",
    "51279": "TP trigger price cannot be lower than the last price.",
    "51280": "SL trigger price cannot be higher than the last price.",
    "51300": "TP trigger price cannot be higher than the mark price",
    "51302": "SL trigger price cannot be lower than the mark price",
    "51303": "TP trigger price cannot be lower than the mark price",
    "51304": "SL trigger price cannot be higher than the mark price",
    "51305": "TP trigger price cannot be higher than the index price",
    "51306": "SL trigger price cannot be lower than the index price",
    "51307": "TP trigger price cannot be lower than the index price",
    "51308": "SL trigger price cannot be higher than the index price",
    "51400": "Order cancellation failed as the order has been filled, canceled or does not exist.",
    "51401": "Cancellation failed as the order is already canceled.",
    "51406": "Canceled - order count exceeds the limit 20",
    "51407": "Either order ID or client order ID is required.",
    "51410": "Cancellation failed as the order is already under cancelling status.",
    "51416": "Order has been triggered and can't be canceled",
    "51500": "You must enter a price, quantity, or TP/SL",
    "51503": "Your order has already been filled or canceled.",
    "51603": "Order does not exist",
    "50072": (
        "Isolated margin mode is no longer supported in multi-currency margin mode and portfolio margin mode."
    ),
    "59000": "Your settings failed as you have positions or open orders.",
    "59101": (
        "You have pending orders with isolated positions. "
        "Please cancel all the pending isolated margin orders and adjust the leverage."
    ),
    "59102": "Leverage exceeds the maximum leverage. Please adjust the leverage.",
    "59107": (
        "You have pending cross margin orders under the service. "
        "Please modify the leverage after canceling all pending cross margin orders."
    ),
    "59108": "Low leverage and insufficient margin. Please adjust the leverage.",
}

HTTP_STATUS: dict[str, int] = {
    "50000": 400,
    "50001": 503,
    "50002": 400,
    "50004": 400,
    "50006": 400,
    "50011": 429,
    "50014": 400,
    "50015": 400,
    "50026": 500,
    "50115": 405,
    "51000": 400,
    "51115": 429,  # facts sheet sections 4 and 6.14: the error table lists it with HTTP 429
    "51406": 400,
    **{str(code): 401 for code in range(50101, 50115)},
}


def message(code: str) -> str:
    return MESSAGES.get(code, "")


class ItemError(Exception):
    """One order item failed: reported as its sCode/sMsg inside a code "1"/"2" envelope."""

    def __init__(self, code: str, msg: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.msg = message(code) if msg is None else msg


class ApiError(Exception):
    """The whole request failed: top-level code, msg and `data: []` (no data key for auth and 429)."""

    def __init__(self, code: str, msg: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.msg = message(code) if msg is None else msg
        self.http_status = HTTP_STATUS.get(code, 200)


def param_error(name: str) -> str:
    return f"Parameter {name} error"


def bad_param(name: str) -> ApiError:
    """Top-level 51000 (HTTP 400): a malformed request."""
    return ApiError("51000", param_error(name))


def bad_item_param(name: str) -> ItemError:
    return ItemError("51000", param_error(name))
