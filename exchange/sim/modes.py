"""What the account's modes allow, as OKX judges it: posSide per posMode, tdMode per account level.

Pure rules over an `Account`; the venue calls them before it changes anything. Codes where the docs are
open follow exchange.sim.quirks.
"""

from __future__ import annotations

from .account import LONG_SHORT, Account
from .errors import ApiError, ItemError, bad_item_param
from .quirks import Quirks

SPOT_MODE = "1"
FUTURES_MODE = "2"
PORTFOLIO_MARGIN = "4"


def pos_side_for(account: Account, sent: str | None) -> str:
    """The position side an order or close names: long/short required in long/short mode, net (or
    nothing) in net mode; anything else is 51000 "Parameter posSide error"."""
    if account.pos_mode == LONG_SHORT:
        if sent not in ("long", "short"):
            raise bad_item_param("posSide")
        return sent
    if sent not in (None, "net"):
        raise bad_item_param("posSide")
    return "net"


def check_trading_allowed(account: Account, td_mode: str, quirks: Quirks) -> None:
    """SWAP trading at this account level with this margin mode (raise ItemError)."""
    if account.acct_lv == SPOT_MODE:
        raise ItemError("51010")
    if td_mode == "isolated":
        if account.acct_lv in ("3", PORTFOLIO_MARGIN):
            raise ItemError("50072")
        if account.acct_lv == FUTURES_MODE and not quirks.isolated_swap_in_futures_mode:
            raise ItemError("51010")


def top_level(exc: ItemError) -> ApiError:
    """The same refusal for an endpoint that answers without per-item codes."""
    return ApiError(exc.code, exc.msg)
