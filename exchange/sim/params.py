"""Request parameters: read from the query string or a JSON item and checked as OKX checks them.

Optional fields sent as "" or null count as absent. A malformed request (a required field missing, an
unknown enum value) is a top-level 51000 (HTTP 400); a well-formed order item that breaks a trading
rule gets its own sCode.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .algos import MARKET, SL, TP, AttachedStop, Leg
from .decimals import parse_plain
from .errors import ApiError, ItemError, bad_item_param, bad_param
from .instruments import INSTRUMENTS, Instrument
from .market import FEEDS
from .quirks import Quirks

_CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_TAG = re.compile(r"^[A-Za-z0-9]{1,16}$")
_INTEGER = re.compile(r"^\d{1,20}$")

SIDES = ("buy", "sell")
TD_MODES = ("cross", "isolated", "cash", "spot_isolated")
ORD_TYPES = ("market", "limit", "post_only", "fok", "ioc")
PRICED_ORD_TYPES = ("limit", "post_only", "fok", "ioc")


def text(source: Mapping[str, Any], name: str) -> str | None:
    """A field as text; "" and null are absent; JSON numbers and booleans become their text."""
    value = source.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | Decimal):
        return str(value)
    raise bad_param(name)


def required(source: Mapping[str, Any], name: str) -> str:
    value = text(source, name)
    if value is None:
        raise bad_param(name)
    return value


def one_of(source: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = required(source, name)
    if value not in allowed:
        raise bad_param(name)
    return value


def flag(source: Mapping[str, Any], name: str, strings: bool = True) -> bool:
    """A Boolean field: JSON true/false; absent ("" or null) is false; "true"/"false" only if `strings`."""
    value = source.get(name)
    if value is None or value == "" or isinstance(value, bool):
        return bool(value)
    if strings and value in ("true", "false"):
        return str(value) == "true"
    raise bad_param(name)


def integer(source: Mapping[str, Any], name: str) -> int | None:
    value = text(source, name)
    if value is None:
        return None
    if not _INTEGER.match(value):
        raise bad_param(name)
    return int(value)


def limit(source: Mapping[str, Any], default: int, maximum: int) -> int:
    value = integer(source, "limit")
    if value is None:
        return default
    if value < 1:
        raise bad_param("limit")
    return min(value, maximum)


def instrument(inst_id: str) -> Instrument:
    inst = INSTRUMENTS.get(inst_id)
    if inst is None:
        raise ItemError("51001")
    return inst


def instrument_top_level(inst_id: str) -> Instrument:
    try:
        return instrument(inst_id)
    except ItemError as exc:
        raise ApiError(exc.code) from None


def client_order_id(source: Mapping[str, Any], name: str = "clOrdId") -> str:
    """A client id (clOrdId, algoClOrdId, attachAlgoClOrdId): 1-32 letters and digits; "" when absent."""
    value = text(source, name)
    if value is not None and not _CLIENT_ORDER_ID.match(value):
        raise bad_item_param(name)
    return value or ""


def tag(source: Mapping[str, Any]) -> str:
    value = text(source, "tag")
    if value is not None and not _TAG.match(value):
        raise bad_item_param("tag")
    return value or ""


def pos_side(source: Mapping[str, Any]) -> str | None:
    """posSide as sent (None when omitted); whether it fits the account's posMode is the venue's call."""
    value = text(source, "posSide")
    if value not in (None, "long", "short", "net"):
        raise bad_item_param("posSide")
    return value


def tick_price(source: Mapping[str, Any], name: str, inst: Instrument) -> Decimal | None:
    """A positive price on the instrument's tick (None when absent); anything else is 51000."""
    value = text(source, name)
    if value is None:
        return None
    px = parse_plain(value)
    if px is None or px <= 0 or px % inst.tick_sz != 0:
        raise bad_item_param(name)
    return px


def order_price(source: Mapping[str, Any], name: str, inst: Instrument) -> Decimal | None:
    """A TP/SL order price: -1 for market, else a price on the tick; None when absent."""
    return MARKET if text(source, name) == "-1" else tick_price(source, name, inst)


def trigger_px_type(source: Mapping[str, Any], name: str) -> str | None:
    value = text(source, name)
    if value not in (None, *FEEDS):
        raise bad_item_param(name)
    return value


def leg(source: Mapping[str, Any], kind: str, inst: Instrument) -> Leg | None:
    """The `kind` (sl or tp) leg an item names: its trigger and order prices go together."""
    trigger = tick_price(source, f"{kind}TriggerPx", inst)
    ord_px = order_price(source, f"{kind}OrdPx", inst)
    px_type = trigger_px_type(source, f"{kind}TriggerPxType") or "last"
    if trigger is None and ord_px is None:
        return None
    if trigger is None or ord_px is None:
        raise bad_item_param(f"{kind}TriggerPx" if trigger is None else f"{kind}OrdPx")
    return Leg(kind, trigger, ord_px, px_type)


def legs(source: Mapping[str, Any], inst: Instrument) -> tuple[Leg, ...]:
    return tuple(x for x in (leg(source, SL, inst), leg(source, TP, inst)) if x is not None)


def attached_stops(item: Mapping[str, Any], inst: Instrument) -> tuple[AttachedStop, ...]:
    """attachAlgoOrds of a place item: absent, null or [] is none; one TP/SL (split TPs are not modelled)."""
    value = item.get("attachAlgoOrds")
    if value is None or value == "" or value == []:
        return ()
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
        raise bad_item_param("attachAlgoOrds")
    stop = value[0]
    stop_legs = legs(stop, inst)
    if not stop_legs:
        raise bad_item_param("attachAlgoOrds")
    return (AttachedStop(client_order_id(stop, "attachAlgoClOrdId"), stop_legs),)


@dataclass(frozen=True)
class PlaceOrder:
    inst: Instrument
    td_mode: str
    side: str
    pos_side: str | None  # as sent; None when omitted
    ord_type: str
    sz: Decimal
    px: Decimal | None
    client_order_id: str
    tag: str
    reduce_only: bool = False
    attached: tuple[AttachedStop, ...] = ()
    algo_id: str = ""  # set on an algo's child order: the algo that placed it
    algo_client_id: str = ""


def place_shape(item: Mapping[str, Any], quirks: Quirks) -> None:
    """The request-level checks of one place item (raise ApiError)."""
    required(item, "instId")
    one_of(item, "tdMode", TD_MODES)
    one_of(item, "side", SIDES)
    one_of(item, "ordType", ORD_TYPES)
    required(item, "sz")
    flag(item, "reduceOnly", quirks.boolean_strings)


def place_item(item: Mapping[str, Any], quirks: Quirks) -> PlaceOrder:
    """The item-level checks of one place item, in OKX's spirit (raise ItemError)."""
    inst = instrument(required(item, "instId"))
    order_client_order_id = client_order_id(item)
    order_tag = tag(item)
    td_mode = required(item, "tdMode")
    if td_mode not in ("cross", "isolated"):  # cash and spot_isolated are for spot
        raise bad_item_param("tdMode")
    side_of_position = pos_side(item)
    ord_type = required(item, "ordType")
    px: Decimal | None = None
    if ord_type in PRICED_ORD_TYPES:
        px_text = text(item, "px")
        if px_text is None:
            raise ItemError("51204")
        px = parse_plain(px_text)
        if px is None or px <= 0 or px % inst.tick_sz != 0:
            raise bad_item_param("px")
    sz = parse_plain(required(item, "sz"))
    if sz is None:
        raise bad_item_param("sz")
    if sz % inst.lot_sz != 0:
        raise ItemError("51121")
    if sz < inst.min_sz:
        raise ItemError(quirks.min_sz_code)
    if ord_type == "market" and sz > inst.max_mkt_sz:
        raise ItemError("51202")
    if ord_type != "market" and sz > inst.max_lmt_sz:
        raise bad_item_param("sz")
    return PlaceOrder(
        inst,
        td_mode,
        required(item, "side"),
        side_of_position,
        ord_type,
        sz,
        px,
        order_client_order_id,
        order_tag,
        flag(item, "reduceOnly", quirks.boolean_strings),
        attached_stops(item, inst),
    )


@dataclass(frozen=True)
class CancelOrder:
    inst_id: str
    ord_id: str | None
    client_order_id: str | None


def cancel_item(item: Mapping[str, Any]) -> CancelOrder:
    return CancelOrder(required(item, "instId"), text(item, "ordId"), text(item, "clOrdId"))


@dataclass(frozen=True)
class ClosePosition:
    inst: Instrument
    mgn_mode: str
    pos_side: str | None  # as sent; None when omitted
    client_order_id: str
    tag: str
    auto_cxl: bool


def close_position(body: Mapping[str, Any], quirks: Quirks) -> ClosePosition:
    inst = instrument_top_level(required(body, "instId"))
    mgn_mode = one_of(body, "mgnMode", ("cross", "isolated"))
    try:
        return ClosePosition(
            inst,
            mgn_mode,
            pos_side(body),
            client_order_id(body),
            tag(body),
            flag(body, "autoCxl", quirks.boolean_strings),
        )
    except ItemError as exc:
        raise ApiError(exc.code, exc.msg) from None


@dataclass(frozen=True)
class CancelAllAfterReq:
    timeout_s: int  # 0 disarms
    tag: str  # "" for the account level


CAA_TIMEOUT_S = range(10, 121)  # OKX: "0" disarms, else 10 to 120 seconds


def cancel_all_after(body: Mapping[str, Any]) -> CancelAllAfterReq:
    """POST /trade/cancel-all-after: timeOut "0" or "10" to "120" (whole seconds) and an optional tag.

    OKX documents the range but not the code for a value outside it: the simulator's guess is OKX's
    parameter error, top-level 51000 "Parameter timeOut error" (HTTP 400), as for a malformed tag.
    """
    value = required(body, "timeOut")
    timeout_s = int(value) if _INTEGER.match(value) else -1
    if timeout_s != 0 and timeout_s not in CAA_TIMEOUT_S:
        raise bad_param("timeOut")
    try:
        return CancelAllAfterReq(timeout_s, tag(body))
    except ItemError as exc:
        raise ApiError(exc.code, exc.msg) from None


@dataclass(frozen=True)
class SetLeverage:
    inst: Instrument
    lever: Decimal
    mgn_mode: str
    pos_side: str | None


def set_leverage(body: Mapping[str, Any]) -> SetLeverage:
    inst = instrument_top_level(required(body, "instId"))
    lever = parse_plain(required(body, "lever"))
    if lever is None or lever <= 0:
        raise bad_param("lever")
    mgn_mode = one_of(body, "mgnMode", ("cross", "isolated"))
    side = text(body, "posSide")
    if side not in (None, "long", "short", "net"):
        raise bad_param("posSide")
    return SetLeverage(inst, lever, mgn_mode, side)
