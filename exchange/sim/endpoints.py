"""The OKX v5 REST endpoints: read the request's parameters, ask the venue, answer in OKX's shape.

Each handler runs with the venue's lock held and the market synced to the clock (for a request
applied late: when it is applied, with the call as it arrived).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from . import params, pricelimit
from .account import ACCT_LEVELS, MGN_MODES, POS_MODES
from .book import ARCHIVE_KEPT_MS, FILLS_HISTORY_KEPT_MS, FILLS_KEPT_MS, HISTORY_KEPT_MS
from .envelopes import items, ok
from .errors import ApiError, ItemError, bad_param
from .instruments import INSTRUMENTS
from .market import BAR_MINUTES, PricePath
from .orders import Fill, Order
from .server import Response
from .venue import Venue

INST_TYPES = ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS")
HISTORY_STATES = ("filled", "canceled", "mmp_canceled")
MAX_BATCH = 20
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    query: Mapping[str, str]
    body: Any  # the parsed JSON body of a POST, None for a GET
    in_time_us: int  # when the gateway received it (sim clock)
    exp_time_ms: int | None = None  # the expTime deadline, on endpoints that honour it
    async_cancel: bool = False  # cancels are accepted now and carried out at the next matching step

    def expired(self, now_ms: int) -> bool:
        """Whether processing at `now_ms` (sim time) comes after the request's expTime."""
        return self.exp_time_ms is not None and now_ms > self.exp_time_ms


Handler = Callable[[Venue, Call], Response]

EXP_TIME_ENDPOINTS = frozenset({"POST /api/v5/trade/order", "POST /api/v5/trade/batch-orders"})
_UNIX_MS = re.compile(r"\d{1,19}")


def exp_time(header: str | None, now_ms: int) -> int | None:
    """The `expTime` header (Unix ms): malformed is 51000, a deadline already past on arrival 50036."""
    if header is None:
        return None
    if not _UNIX_MS.fullmatch(header):
        raise bad_param("expTime")
    deadline = int(header)
    if deadline < now_ms:
        raise ApiError("50036")
    return deadline


def _out_us(venue: Venue) -> int:
    return venue.now_ms() * 1000


def _page(rows: Sequence[T], key: Callable[[T], int], query: Mapping[str, str]) -> list[T]:
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


def _split(query: Mapping[str, str], name: str) -> set[str] | None:
    value = params.text(query, name)
    return None if value is None else set(value.split(","))


def _in_window(query: Mapping[str, str]) -> Callable[[int], bool]:
    """begin/end (Unix ms, both inclusive) as a test on a record's time."""
    begin, end = params.integer(query, "begin"), params.integer(query, "end")
    return lambda ms: (begin is None or ms >= begin) and (end is None or ms <= end)


# -- public ----------------------------------------------------------------------------------------


def public_time(venue: Venue, call: Call) -> Response:
    return ok([{"ts": str(venue.now_ms())}])


def instruments(venue: Venue, call: Call) -> Response:
    if params.one_of(call.query, "instType", INST_TYPES) != "SWAP":
        return ok([])
    inst_id = params.text(call.query, "instId")
    family = params.text(call.query, "instFamily") or params.text(call.query, "uly")
    return ok(
        [
            inst.to_okx()
            for inst in INSTRUMENTS.values()
            if inst_id in (None, inst.inst_id) and family in (None, inst.inst_family)
        ]
    )


def _candles(venue: Venue, call: Call, max_limit: int, history: bool) -> Response:
    path = _path(venue, call.query)
    bar = params.text(call.query, "bar") or "1m"
    if bar not in BAR_MINUTES:
        raise bad_param("bar")
    rows = path.candles(
        bar,
        venue.now_ms(),
        params.integer(call.query, "after"),
        params.integer(call.query, "before"),
        params.limit(call.query, 100, max_limit),
        history,
    )
    return ok(rows)


def candles(venue: Venue, call: Call) -> Response:
    return _candles(venue, call, 300, history=False)


def history_candles(venue: Venue, call: Call) -> Response:
    """Older bars than /market/candles reaches (ccxt's fetch_ohlcv asks here for a `since` in the past)."""
    return _candles(venue, call, 100, history=True)


def ticker(venue: Venue, call: Call) -> Response:
    return ok([_path(venue, call.query).ticker(venue.now_ms())])


def price_limit(venue: Venue, call: Call) -> Response:
    path = _path(venue, call.query)
    return ok([pricelimit.to_okx(path.inst, path.px, venue.now_ms())])


def _path(venue: Venue, query: Mapping[str, str]) -> PricePath:
    inst = params.instrument_top_level(params.required(query, "instId"))
    return venue.path(inst.inst_id)


# -- trading ---------------------------------------------------------------------------------------


def _objects(body: Any, many: bool) -> list[Mapping[str, Any]]:
    """The body's order items: one object, or (batch) an array of objects."""
    rows = body if many else [body]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ApiError("50002")
    return rows


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
        "clOrdId": order.cl_ord_id,
        "ordId": order.ord_id,
        "sCode": "0",
        "sMsg": "Order placed",
        "subCode": "",
        "tag": order.tag,
        "ts": ts,
    }


def _place(venue: Venue, call: Call, many: bool) -> Response:
    rows = _objects(call.body, many)
    if len(rows) > MAX_BATCH:
        raise ApiError("51111")
    if not rows:
        raise bad_param("data")
    for row in rows:
        params.place_shape(row, venue.quirks)
    if call.expired(venue.now_ms()):  # processed after its expTime: refused, nothing applied
        ts = str(venue.now_ms())
        acks = [_refused_place_ack(row, ItemError("50037"), ts) for row in rows]
        return items(acks, call.in_time_us, _out_us(venue), single=not many)
    taken: set[str] = set()
    acks = [_place_ack(venue, row, taken) for row in rows]
    return items(acks, call.in_time_us, _out_us(venue), single=not many)


def place_order(venue: Venue, call: Call) -> Response:
    return _place(venue, call, many=False)


def place_batch(venue: Venue, call: Call) -> Response:
    return _place(venue, call, many=True)


def _cancel_ack(venue: Venue, item: Mapping[str, Any], asynchronous: bool) -> dict[str, Any]:
    req = params.cancel_item(item)
    ack = {"clOrdId": req.cl_ord_id or "", "ordId": req.ord_id or "", "ts": str(venue.now_ms())}
    try:
        order = venue.cancel(req.inst_id, req.ord_id, req.cl_ord_id, asynchronous)
    except ItemError as exc:
        return {**ack, "sCode": exc.code, "sMsg": exc.msg}
    return {**ack, "clOrdId": order.cl_ord_id, "ordId": order.ord_id, "sCode": "0", "sMsg": ""}


def _cancel(venue: Venue, call: Call, many: bool) -> Response:
    rows = _objects(call.body, many)
    if len(rows) > MAX_BATCH:
        raise ApiError("51406")
    if not rows:
        raise bad_param("data")
    for row in rows:
        params.required(row, "instId")
    acks = [_cancel_ack(venue, row, call.async_cancel) for row in rows]
    return items(acks, call.in_time_us, _out_us(venue), single=not many)


def cancel_order(venue: Venue, call: Call) -> Response:
    return _cancel(venue, call, many=False)


def cancel_batch(venue: Venue, call: Call) -> Response:
    return _cancel(venue, call, many=True)


def close_position(venue: Venue, call: Call) -> Response:
    req = params.close_position(_objects(call.body, many=False)[0], venue.quirks)
    order = venue.close_position(req)
    return ok(
        [
            {
                "clOrdId": order.cl_ord_id,
                "instId": req.inst.inst_id,
                "posSide": order.pos_side,
                "tag": order.tag,
            }
        ]
    )


# -- orders and fills ------------------------------------------------------------------------------


def get_order(venue: Venue, call: Call) -> Response:
    inst = params.instrument_top_level(params.required(call.query, "instId"))
    ord_id, cl_ord_id = params.text(call.query, "ordId"), params.text(call.query, "clOrdId")
    if ord_id is None and cl_ord_id is None:
        raise ApiError("51003")
    order = venue.find_order(inst.inst_id, ord_id, cl_ord_id)
    if order is None:
        raise ApiError("51603")
    return ok([order.to_okx()])


def _order_filter(query: Mapping[str, str]) -> Callable[[Order], bool]:
    inst_id = params.text(query, "instId")
    ord_types, states = _split(query, "ordType"), _split(query, "state")
    return lambda o: (
        inst_id in (None, o.inst.inst_id)
        and (ord_types is None or o.ord_type in ord_types)
        and (states is None or o.state in states)
    )


def _orders(rows: list[Order], call: Call, inst_type_required: bool) -> Response:
    if not _inst_type_ok(call.query, inst_type_required):
        return ok([])
    accept = _order_filter(call.query)
    return ok(
        [o.to_okx() for o in _page([o for o in rows if accept(o)], lambda o: int(o.ord_id), call.query)]
    )


def orders_pending(venue: Venue, call: Call) -> Response:
    return _orders(venue.pending(), call, inst_type_required=False)


def _history(venue: Venue, call: Call, kept_ms: int) -> Response:
    states = _split(call.query, "state")
    if states is not None and not states <= set(HISTORY_STATES):
        raise bad_param("state")
    in_window = _in_window(call.query)
    return _orders([o for o in venue.history(kept_ms) if in_window(o.c_time)], call, inst_type_required=True)


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
    return ok([f.to_okx() for f in _page(rows, lambda f: int(f.bill_id), call.query)])


def fills(venue: Venue, call: Call) -> Response:
    return _fills(venue, call, FILLS_KEPT_MS, inst_type_required=False)


def fills_history(venue: Venue, call: Call) -> Response:
    return _fills(venue, call, FILLS_HISTORY_KEPT_MS, inst_type_required=True)


# -- account ---------------------------------------------------------------------------------------


def balance(venue: Venue, call: Call) -> Response:
    data = venue.balance()
    ccys = _split(call.query, "ccy")
    if ccys is not None and "USDT" not in ccys:
        data["details"] = []
    return ok([data])


def positions(venue: Venue, call: Call) -> Response:
    inst_type = params.text(call.query, "instType")
    if inst_type is not None and inst_type not in ("MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS"):
        raise bad_param("instType")
    inst_ids, pos_ids = _split(call.query, "instId"), _split(call.query, "posId")
    if inst_ids is not None and len(inst_ids) > 10:
        raise bad_param("instId")
    if inst_type not in (None, "SWAP"):
        return ok([])
    return ok(
        venue.positions(
            lambda p: (
                (inst_ids is None or p.inst.inst_id in inst_ids) and (pos_ids is None or p.pos_id in pos_ids)
            )
        )
    )


def account_config(venue: Venue, call: Call) -> Response:
    return ok([venue.config()])


def set_position_mode(venue: Venue, call: Call) -> Response:
    body = _objects(call.body, many=False)[0]
    pos_mode = params.one_of(body, "posMode", POS_MODES)
    venue.set_position_mode(pos_mode)
    return ok([{"posMode": pos_mode}])


def set_account_level(venue: Venue, call: Call) -> Response:
    body = _objects(call.body, many=False)[0]
    acct_lv = params.one_of(body, "acctLv", ACCT_LEVELS)
    venue.set_account_level(acct_lv)
    return ok([{"acctLv": acct_lv}])


def set_leverage(venue: Venue, call: Call) -> Response:
    return ok([venue.set_leverage(params.set_leverage(_objects(call.body, many=False)[0]))])


def leverage_info(venue: Venue, call: Call) -> Response:
    mgn_mode = params.one_of(call.query, "mgnMode", MGN_MODES)
    inst_ids = params.required(call.query, "instId").split(",")
    if len(inst_ids) > 20:
        raise bad_param("instId")
    insts = [params.instrument_top_level(inst_id) for inst_id in inst_ids]
    return ok([row for inst in insts for row in venue.leverage_info(inst, mgn_mode)])


ROUTES: dict[str, tuple[Handler, bool]] = {
    # "METHOD path": (handler, private)
    "GET /api/v5/public/time": (public_time, False),
    "GET /api/v5/public/instruments": (instruments, False),
    "GET /api/v5/market/candles": (candles, False),
    "GET /api/v5/market/ticker": (ticker, False),
    "GET /api/v5/public/price-limit": (price_limit, False),
    "POST /api/v5/trade/order": (place_order, True),
    "POST /api/v5/trade/batch-orders": (place_batch, True),
    "POST /api/v5/trade/cancel-order": (cancel_order, True),
    "POST /api/v5/trade/cancel-batch-orders": (cancel_batch, True),
    "POST /api/v5/trade/close-position": (close_position, True),
    "GET /api/v5/trade/order": (get_order, True),
    "GET /api/v5/trade/orders-pending": (orders_pending, True),
    "GET /api/v5/trade/orders-history": (orders_history, True),
    "GET /api/v5/trade/orders-history-archive": (orders_history_archive, True),
    "GET /api/v5/trade/fills": (fills, True),
    "GET /api/v5/trade/fills-history": (fills_history, True),
    "GET /api/v5/account/balance": (balance, True),
    "GET /api/v5/account/positions": (positions, True),
    "GET /api/v5/account/config": (account_config, True),
    "POST /api/v5/account/set-position-mode": (set_position_mode, True),
    "POST /api/v5/account/set-account-level": (set_account_level, True),
    "POST /api/v5/account/set-leverage": (set_leverage, True),
    "GET /api/v5/account/leverage-info": (leverage_info, True),
    "GET /api/v5/market/history-candles": (history_candles, False),
}
