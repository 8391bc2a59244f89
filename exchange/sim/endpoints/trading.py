"""The trading endpoints: place and cancel orders (one or a batch), close a position, arm Cancel All After."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import params
from ..envelopes import ALL_FAILED, BATCH_PLACE_ALL_FAILED, items, ok
from ..errors import ApiError, ItemError, bad_param
from ..server import Response
from ..venue import Venue
from .call import Call, objects

MAX_BATCH = 20


def _out_us(venue: Venue) -> int:
    return venue.now_ms() * 1000


def _refused_place_ack(item: Mapping[str, Any], exc: ItemError, ts: str) -> dict[str, Any]:
    return {
        "clOrdId": params.text(item, "clOrdId") or "",
        "ordId": "",
        "sCode": exc.code,
        "sMsg": exc.msg,
        "subCode": "",
        "tag": params.text(item, "tag") or "",
        "ts": ts,
    }


def _place_ack(venue: Venue, item: Mapping[str, Any], taken: set[str]) -> dict[str, Any]:
    ts = str(venue.now_ms())
    try:
        order = venue.place(params.place_item(item, venue.quirks), taken)
    except ItemError as exc:
        return _refused_place_ack(item, exc, ts)
    return {
        "clOrdId": order.client_order_id,
        "ordId": order.ord_id,
        "sCode": "0",
        "sMsg": "Order placed",
        "subCode": "",
        "tag": order.tag,
        "ts": ts,
    }


def _place(venue: Venue, call: Call, many: bool) -> Response:
    rows = objects(call.body, many)
    if len(rows) > MAX_BATCH:
        raise ApiError("51111")
    if not rows:
        raise bad_param("data")
    for row in rows:
        params.place_shape(row, venue.quirks)
    all_failed = BATCH_PLACE_ALL_FAILED if many else ALL_FAILED
    if call.expired(venue.now_ms()):  # processed after its expTime: refused, nothing applied
        ts = str(venue.now_ms())
        acks = [_refused_place_ack(row, ItemError("50037"), ts) for row in rows]
        return items(acks, call.in_time_us, _out_us(venue), all_failed)
    taken: set[str] = set()
    acks = [_place_ack(venue, row, taken) for row in rows]
    return items(acks, call.in_time_us, _out_us(venue), all_failed)


def place_order(venue: Venue, call: Call) -> Response:
    return _place(venue, call, many=False)


def place_batch(venue: Venue, call: Call) -> Response:
    return _place(venue, call, many=True)


def _cancel_ack(venue: Venue, item: Mapping[str, Any], asynchronous: bool) -> dict[str, Any]:
    req = params.cancel_item(item)
    ack = {"clOrdId": req.client_order_id or "", "ordId": req.ord_id or "", "ts": str(venue.now_ms())}
    try:
        order = venue.cancel(req.inst_id, req.ord_id, req.client_order_id, asynchronous)
    except ItemError as exc:
        return {**ack, "sCode": exc.code, "sMsg": exc.msg}
    return {**ack, "clOrdId": order.client_order_id, "ordId": order.ord_id, "sCode": "0", "sMsg": ""}


def _cancel(venue: Venue, call: Call, many: bool) -> Response:
    rows = objects(call.body, many)
    if len(rows) > MAX_BATCH:
        raise ApiError("51406")
    if not rows:
        raise bad_param("data")
    for row in rows:
        params.required(row, "instId")
    acks = [_cancel_ack(venue, row, call.async_cancel) for row in rows]
    return items(acks, call.in_time_us, _out_us(venue))


def cancel_order(venue: Venue, call: Call) -> Response:
    return _cancel(venue, call, many=False)


def cancel_batch(venue: Venue, call: Call) -> Response:
    return _cancel(venue, call, many=True)


def close_position(venue: Venue, call: Call) -> Response:
    req = params.close_position(objects(call.body, many=False)[0], venue.quirks)
    order = venue.close_position(req)
    return ok(
        [
            {
                "clOrdId": order.client_order_id,
                "instId": req.inst.inst_id,
                "posSide": order.pos_side,
                "tag": order.tag,
            }
        ]
    )


def cancel_all_after(venue: Venue, call: Call) -> Response:
    """Arm, re-arm or (timeOut 0) disarm the Cancel All After timer of a tag, or of the account."""
    req = params.cancel_all_after(objects(call.body, many=False)[0])
    now = venue.now_ms()
    trigger = venue.caa_timers.arm(req.tag, req.timeout_s, now)
    return ok([{"triggerTime": str(trigger), "tag": req.tag, "ts": str(now)}])
