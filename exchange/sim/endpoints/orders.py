"""The order and fill reads: one order, pending orders, order history and its archive, fills and
fills history, each filtered and paged as OKX does."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from .. import params
from ..book import ARCHIVE_KEPT_MS, FILLS_HISTORY_KEPT_MS, FILLS_KEPT_MS, HISTORY_KEPT_MS
from ..envelopes import ok
from ..errors import ApiError, bad_param
from ..orders import Fill, Order
from ..server import Response
from ..venue import Venue
from .call import INST_TYPES, Call, split

HISTORY_STATES = ("filled", "canceled", "mmp_canceled")
T = TypeVar("T")


def page(rows: Sequence[T], key: Callable[[T], int], query: Mapping[str, str]) -> list[T]:
    """Newest-first rows, cut by after (older than) / before (newer than) and limit (max 100)."""
    after, before = params.integer(query, "after"), params.integer(query, "before")
    count = params.limit(query, 100, 100)
    chosen = [r for r in rows if (after is None or key(r) < after) and (before is None or key(r) > before)]
    return chosen[-count:] if before is not None and after is None else chosen[:count]


def _inst_type_ok(query: Mapping[str, str], required: bool) -> bool:
    """Whether the instType filter admits SWAP (an unknown instType is a malformed request)."""
    value = params.one_of(query, "instType", INST_TYPES) if required else params.text(query, "instType")
    if value is not None and value not in INST_TYPES:
        raise bad_param("instType")
    return value in (None, "SWAP")


def _in_window(query: Mapping[str, str]) -> Callable[[int], bool]:
    """begin/end (Unix ms, both inclusive) as a test on a record's time."""
    begin, end = params.integer(query, "begin"), params.integer(query, "end")
    return lambda ms: (begin is None or ms >= begin) and (end is None or ms <= end)


def get_order(venue: Venue, call: Call) -> Response:
    inst = params.instrument_top_level(params.required(call.query, "instId"))
    ord_id, client_order_id = params.text(call.query, "ordId"), params.text(call.query, "clOrdId")
    if ord_id is None and client_order_id is None:
        raise ApiError("51003")
    order = venue.find_order(inst.inst_id, ord_id, client_order_id)
    if order is None:
        raise ApiError("51603")
    return ok([order.to_okx(venue.quirks.absent_optional_fields)])


def _order_filter(query: Mapping[str, str]) -> Callable[[Order], bool]:
    inst_id = params.text(query, "instId")
    ord_types, states = split(query, "ordType"), split(query, "state")
    return lambda o: (
        inst_id in (None, o.inst.inst_id)
        and (ord_types is None or o.ord_type in ord_types)
        and (states is None or o.state in states)
    )


def _orders(venue: Venue, rows: list[Order], call: Call, inst_type_required: bool) -> Response:
    if not _inst_type_ok(call.query, inst_type_required):
        return ok([])
    accept = _order_filter(call.query)
    shown = page([o for o in rows if accept(o)], lambda o: int(o.ord_id), call.query)
    return ok([o.to_okx(venue.quirks.absent_optional_fields) for o in shown])


def orders_pending(venue: Venue, call: Call) -> Response:
    return _orders(venue, venue.pending(), call, inst_type_required=False)


def _history(venue: Venue, call: Call, kept_ms: int) -> Response:
    states = split(call.query, "state")
    if states is not None and not states <= set(HISTORY_STATES):
        raise bad_param("state")
    in_window = _in_window(call.query)
    kept = [o for o in venue.history(kept_ms) if in_window(o.c_time)]
    return _orders(venue, kept, call, inst_type_required=True)


def orders_history(venue: Venue, call: Call) -> Response:
    return _history(venue, call, HISTORY_KEPT_MS)


def orders_history_archive(venue: Venue, call: Call) -> Response:
    return _history(venue, call, ARCHIVE_KEPT_MS)


def _fills(venue: Venue, call: Call, kept_ms: int, inst_type_required: bool) -> Response:
    if not _inst_type_ok(call.query, inst_type_required):
        return ok([])
    inst_id, ord_id = params.text(call.query, "instId"), params.text(call.query, "ordId")
    in_window = _in_window(call.query)

    def accept(f: Fill) -> bool:
        return inst_id in (None, f.inst.inst_id) and ord_id in (None, f.ord_id) and in_window(f.ts)

    rows = [f for f in venue.recent_fills(kept_ms) if accept(f)]
    shown = page(rows, lambda f: int(f.bill_id), call.query)
    return ok([f.to_okx(venue.quirks.absent_optional_fields) for f in shown])


def fills(venue: Venue, call: Call) -> Response:
    return _fills(venue, call, FILLS_KEPT_MS, inst_type_required=False)


def fills_history(venue: Venue, call: Call) -> Response:
    return _fills(venue, call, FILLS_HISTORY_KEPT_MS, inst_type_required=True)
