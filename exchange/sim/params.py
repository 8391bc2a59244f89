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

from .decimals import parse_plain
from .errors import ApiError, ItemError, bad_item_param, bad_param
from .instruments import INSTRUMENTS, Instrument

_CL_ORD_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
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


def flag(source: Mapping[str, Any], name: str) -> bool:
    value = text(source, name)
    if value not in (None, "true", "false"):
        raise bad_param(name)
    return value == "true"


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


def cl_ord_id(source: Mapping[str, Any]) -> str:
    value = text(source, "clOrdId")
    if value is not None and not _CL_ORD_ID.match(value):
        raise bad_item_param("clOrdId")
    return value or ""


def tag(source: Mapping[str, Any]) -> str:
    value = text(source, "tag")
    if value is not None and not _TAG.match(value):
        raise bad_item_param("tag")
    return value or ""


def long_short_pos_side(source: Mapping[str, Any]) -> str:
    value = text(source, "posSide")
    if value not in ("long", "short"):
        raise bad_item_param("posSide")
    return value


@dataclass(frozen=True)
class PlaceOrder:
    inst: Instrument
    td_mode: str
    side: str
    pos_side: str
    ord_type: str
    sz: Decimal
    px: Decimal | None
    cl_ord_id: str
    tag: str


def place_shape(item: Mapping[str, Any]) -> None:
    """The request-level checks of one place item (raise ApiError)."""
    required(item, "instId")
    one_of(item, "tdMode", TD_MODES)
    one_of(item, "side", SIDES)
    one_of(item, "ordType", ORD_TYPES)
    required(item, "sz")
    flag(item, "reduceOnly")  # accepted; in long/short mode every closing order is reduce-only anyway


def place_item(item: Mapping[str, Any]) -> PlaceOrder:
    """The item-level checks of one place item, in OKX's spirit (raise ItemError)."""
    inst = instrument(required(item, "instId"))
    client_id = cl_ord_id(item)
    order_tag = tag(item)
    td_mode = required(item, "tdMode")
    if td_mode != "isolated":
        raise bad_item_param("tdMode")
    pos_side = long_short_pos_side(item)
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
        raise ItemError("51020")
    if ord_type == "market" and sz > inst.max_mkt_sz:
        raise ItemError("51202")
    if ord_type != "market" and sz > inst.max_lmt_sz:
        raise bad_item_param("sz")
    return PlaceOrder(inst, td_mode, required(item, "side"), pos_side, ord_type, sz, px, client_id, order_tag)


@dataclass(frozen=True)
class CancelOrder:
    inst_id: str
    ord_id: str | None
    cl_ord_id: str | None


def cancel_item(item: Mapping[str, Any]) -> CancelOrder:
    return CancelOrder(required(item, "instId"), text(item, "ordId"), text(item, "clOrdId"))


@dataclass(frozen=True)
class ClosePosition:
    inst: Instrument
    mgn_mode: str
    pos_side: str
    cl_ord_id: str
    tag: str
    auto_cxl: bool


def close_position(body: Mapping[str, Any]) -> ClosePosition:
    inst = instrument_top_level(required(body, "instId"))
    mgn_mode = one_of(body, "mgnMode", ("cross", "isolated"))
    pos_side = one_of(body, "posSide", ("long", "short"))
    try:
        return ClosePosition(inst, mgn_mode, pos_side, cl_ord_id(body), tag(body), flag(body, "autoCxl"))
    except ItemError as exc:
        raise ApiError(exc.code, exc.msg) from None
