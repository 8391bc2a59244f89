"""Algo-order request parameters (place, amend, cancel), read and checked as OKX checks them.

As for orders: "" and null count as absent, a malformed request is a top-level 51000 (HTTP 400), and a
well-formed item that breaks a rule gets its own sCode. Only OKX's TP/SL types (`conditional`, `oco`) are
modelled; the other algo types OKX offers are refused per item with "Parameter ordType error".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import params
from .algos import ORD_TYPES, OTHER_ORD_TYPES, SL, TP, Leg
from .decimals import parse_plain
from .errors import ItemError, bad_item_param
from .instruments import Instrument
from .quirks import Quirks

CLOSE_WHOLE_POSITION = "1"  # the only closeFraction OKX accepts


@dataclass(frozen=True)
class PlaceAlgo:
    inst: Instrument
    td_mode: str
    side: str
    pos_side: str | None  # as sent; None when omitted
    ord_type: str
    sz: Decimal | None  # None: closeFraction "1", the whole position
    legs: tuple[Leg, ...]
    client_id: str
    tag: str
    reduce_only: bool
    cxl_on_close_pos: bool


def place_shape(item: Mapping[str, Any]) -> None:
    """The request-level checks of a place-algo body (raise ApiError)."""
    params.required(item, "instId")
    params.one_of(item, "tdMode", params.TD_MODES)
    params.one_of(item, "side", params.SIDES)
    params.one_of(item, "ordType", ORD_TYPES + OTHER_ORD_TYPES)


def checked_size(sz: Decimal, inst: Instrument, quirks: Quirks) -> Decimal:
    """An algo's size: on the lot (51121), at least minSz, at most the instrument's maxStopSz (51275)."""
    if sz % inst.lot_sz != 0:
        raise ItemError("51121")
    if sz < inst.min_sz:
        raise ItemError(quirks.min_sz_code)
    if sz > inst.max_mkt_sz:
        raise ItemError("51275")
    return sz


def size(source: Mapping[str, Any], name: str, inst: Instrument, quirks: Quirks) -> Decimal | None:
    value = params.text(source, name)
    if value is None:
        return None
    sz = parse_plain(value)
    if sz is None:
        raise bad_item_param(name)
    return checked_size(sz, inst, quirks)


def place_algo(item: Mapping[str, Any], quirks: Quirks) -> PlaceAlgo:
    """The item-level checks of a place-algo body (raise ItemError)."""
    inst = params.instrument(params.required(item, "instId"))
    client_id = params.client_order_id(item, "algoClOrdId")
    tag = params.tag(item)
    td_mode = params.required(item, "tdMode")
    if td_mode not in ("cross", "isolated"):
        raise bad_item_param("tdMode")
    ord_type = params.required(item, "ordType")
    if ord_type not in ORD_TYPES:
        raise bad_item_param("ordType")  # a real OKX algo type, but not one the simulator models
    pos_side = params.pos_side(item)
    sz = size(item, "sz", inst, quirks)
    fraction = params.text(item, "closeFraction")
    if (sz is None) == (fraction is None) or fraction not in (None, CLOSE_WHOLE_POSITION):
        raise bad_item_param("sz" if fraction is None else "closeFraction")
    legs = params.legs(item, inst)
    kinds = {leg.kind for leg in legs}
    if not legs or (ord_type == "oco" and len(legs) != 2):
        raise bad_item_param("tpTriggerPx" if SL in kinds else "slTriggerPx")
    if fraction is not None and any(leg.ord_px != -1 for leg in legs):
        raise bad_item_param("closeFraction")  # closing the whole position executes at market only
    if item.get("attachAlgoOrds") not in (None, "", []):
        raise bad_item_param("attachAlgoOrds")  # attached TP/SL on a trigger order: not modelled
    reduce_only = params.flag(item, "reduceOnly", quirks.boolean_strings)
    cxl = params.flag(item, "cxlOnClosePos", quirks.boolean_strings)
    if cxl and not reduce_only:
        raise bad_item_param("reduceOnly")
    return PlaceAlgo(
        inst=inst,
        td_mode=td_mode,
        side=params.required(item, "side"),
        pos_side=pos_side,
        ord_type=ord_type,
        sz=sz,
        legs=legs,
        client_id=client_id,
        tag=tag,
        reduce_only=reduce_only,
        cxl_on_close_pos=cxl,
    )


@dataclass(frozen=True)
class AlgoRef:
    """Which algo a cancel or an amend means: algoId wins over algoClOrdId, as at OKX."""

    inst_id: str | None  # None: any instrument (GET order-algo takes no instId)
    algo_id: str | None
    client_id: str | None


def algo_ref(item: Mapping[str, Any]) -> AlgoRef:
    algo_id, client_id = params.text(item, "algoId"), params.text(item, "algoClOrdId")
    if algo_id is None and client_id is None:
        raise bad_item_param("algoId")
    return AlgoRef(params.required(item, "instId"), algo_id, client_id)


@dataclass(frozen=True)
class LegChange:
    """What an amend asks of one leg: a new trigger, order price or type; a trigger or price of 0 deletes."""

    kind: str
    trigger_px: Decimal | None
    ord_px: Decimal | None
    px_type: str | None
    delete: bool

    def applied(self, current: Leg | None) -> Leg | None:
        """The leg after the change (None: deleted or never there); ItemError when it cannot be built."""
        if self.delete or self.empty:
            return None if self.delete else current
        was = current or Leg(self.kind, Decimal(0), Decimal(0), "last")  # Decimal(0): not given
        trigger = self.trigger_px or was.trigger_px
        ord_px = self.ord_px if self.ord_px is not None else was.ord_px
        if not trigger or not ord_px:
            raise bad_item_param(f"new{self.kind.capitalize()}{'TriggerPx' if not trigger else 'OrdPx'}")
        return Leg(self.kind, trigger, ord_px, self.px_type or was.px_type)

    @property
    def empty(self) -> bool:
        return not self.delete and self.trigger_px is None and self.ord_px is None and self.px_type is None


@dataclass(frozen=True)
class AmendAlgo:
    ref: AlgoRef
    new_sz: Decimal | None
    legs: tuple[LegChange, ...]
    req_id: str
    cxl_on_fail: bool

    @property
    def empty(self) -> bool:
        return self.new_sz is None and all(change.empty for change in self.legs)


def _leg_change(body: Mapping[str, Any], kind: str, inst: Instrument) -> LegChange:
    name = f"new{kind.capitalize()}"
    if any(parse_plain(params.text(body, f"{name}{part}") or "") == 0 for part in ("TriggerPx", "OrdPx")):
        return LegChange(kind, None, None, None, delete=True)
    return LegChange(
        kind,
        params.tick_price(body, f"{name}TriggerPx", inst),
        params.order_price(body, f"{name}OrdPx", inst),
        params.trigger_px_type(body, f"{name}TriggerPxType"),
        delete=False,
    )


def amend_algo(body: Mapping[str, Any], quirks: Quirks) -> AmendAlgo:
    """An amend-algos body (raise ItemError for the answer's item)."""
    ref = algo_ref(body)
    inst = params.instrument(params.required(body, "instId"))
    req_id = params.client_order_id(body, "reqId")
    new_sz = size(body, "newSz", inst, quirks)
    changes = (_leg_change(body, SL, inst), _leg_change(body, TP, inst))
    return AmendAlgo(ref, new_sz, changes, req_id, params.flag(body, "cxlOnFail", quirks.boolean_strings))
