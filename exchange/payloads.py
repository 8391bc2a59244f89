"""Order payloads rendered without sending: deterministic clOrdIds, post-only limits, the entry ladder.

Nothing here does I/O; the instrument's rules are passed in. The output is the exact JSON object
OKX receives (all values strings, numbers without exponent).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from exchange.errors import OkxInvalidRequest
from exchange.records import SIDES, Instrument
from exchange.sizing import build_contract_size, floor_to_step, format_decimal, require_positive, round_price

CLIENT_ORDER_ID_MAX = 32
TAG_MAX = 16
BATCH_MAX = 20  # orders OKX takes in one batch-orders request
_CLIENT_ORDER_ID = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_TAG = re.compile(r"[A-Za-z0-9]+")
_TRADABLE_STATES = frozenset({"live", "post_only"})
ENTRY_OFFSETS = (Decimal("0.003"), Decimal("0.006"), Decimal("0.009"))


def check_client_order_id(client_order_id: str) -> str:
    """OKX's clOrdId rule, tightened to start with a letter: 1-32 ASCII letters and digits."""
    if not _CLIENT_ORDER_ID.fullmatch(client_order_id) or len(client_order_id) > CLIENT_ORDER_ID_MAX:
        raise OkxInvalidRequest(
            f"clOrdId must start with a letter and be at most {CLIENT_ORDER_ID_MAX} letters/digits, "
            f"got {client_order_id!r}"
        )
    return client_order_id


def check_tag(tag: str) -> str:
    """OKX's order tag (also Cancel All After's): 1-16 case-sensitive ASCII letters and digits."""
    if not _TAG.fullmatch(tag) or len(tag) > TAG_MAX:
        raise OkxInvalidRequest(f"a tag is 1 to {TAG_MAX} letters/digits, got {tag!r}")
    return tag


def build_client_order_id(prefix: str, signal_ts_ms: int, rung: int, attempt: int) -> str:
    """`<prefix><signal_ts_ms>r<rung>a<attempt>`: the same inputs always give the same clOrdId.

    Raises ValueError (OkxInvalidRequest is one) if the result would not be a valid clOrdId.
    """
    for name, value in (("signal_ts_ms", signal_ts_ms), ("rung", rung), ("attempt", attempt)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise OkxInvalidRequest(f"{name} must be a non-negative int, got {value!r}")
    return check_client_order_id(f"{prefix}{signal_ts_ms}r{rung}a{attempt}")


def render_post_only_limit_order_payload(
    *,
    symbol: str,
    side: str,
    px: Decimal,
    sz: Decimal,
    client_order_id: str,
    td_mode: str = "isolated",
    pos_side: str | None = "long",
    instrument: Instrument,
    tag: str | None = None,
) -> dict[str, str]:
    """One post_only order: px rounded to tickSz (buys down, sells up), sz down to lotSz, minSz checked;
    with `tag`, the order carries it (a tag-level Cancel All After covers it)."""
    if symbol != instrument.instId:
        raise OkxInvalidRequest(f"symbol {symbol!r} does not match instrument {instrument.instId!r}")
    if instrument.state not in _TRADABLE_STATES:
        raise OkxInvalidRequest(f"{symbol} is not accepting post-only orders (state {instrument.state!r})")
    check_client_order_id(client_order_id)
    rounded_px = round_price(require_positive("px", px), instrument.tickSz, side)
    if rounded_px <= 0:
        raise OkxInvalidRequest(
            f"px {format_decimal(px)} rounds to {format_decimal(rounded_px)} on tick "
            f"{format_decimal(instrument.tickSz)}"
        )
    rounded_sz = floor_to_step(require_positive("sz", sz), instrument.lotSz)
    if rounded_sz < instrument.minSz:
        raise OkxInvalidRequest(
            f"{symbol}: sz {format_decimal(sz)} rounds down to {format_decimal(rounded_sz)} on lotSz "
            f"{format_decimal(instrument.lotSz)}: below minSz {format_decimal(instrument.minSz)}"
        )
    if instrument.maxLmtSz is not None and rounded_sz > instrument.maxLmtSz:
        raise OkxInvalidRequest(
            f"{symbol}: sz {format_decimal(rounded_sz)} above maxLmtSz {format_decimal(instrument.maxLmtSz)}"
        )
    payload = {"instId": symbol, "tdMode": td_mode, "clOrdId": client_order_id}
    if tag is not None:
        payload["tag"] = check_tag(tag)
    payload["side"] = side
    if pos_side is not None:
        payload["posSide"] = pos_side
    payload.update(ordType="post_only", px=format_decimal(rounded_px), sz=format_decimal(rounded_sz))
    return payload


def render_ladder_rung_payload(
    *,
    reference_px: Decimal,
    offset: Decimal,
    side: str,
    instrument: Instrument,
    prefix: str,
    signal_ts_ms: int,
    rung: int,
    attempt: int = 0,
    notional: Decimal | None = None,
    sz: Decimal | None = None,
    td_mode: str = "isolated",
    pos_side: str | None = "long",
    tag: str | None = None,
) -> dict[str, str]:
    """One post-only entry rung `offset` away from the reference, on the far side of it for `side`.

    A buy rests at reference x (1 - offset) rounded down to tickSz, a sell at reference x (1 + offset)
    rounded up. Its size is either `notional` worth of contracts at that price or the explicit `sz`
    (exactly one), rounded down to lotSz; below minSz is an OkxInvalidRequest naming the rung. `tag`
    as for render_post_only_limit_order_payload.
    """
    if side not in SIDES:
        raise OkxInvalidRequest(f"rung {rung}: side must be buy or sell, got {side!r}")
    if not (isinstance(offset, Decimal) and 0 <= offset < 1):
        raise OkxInvalidRequest(f"rung {rung}: offset must be a Decimal in [0, 1), got {offset!r}")
    require_positive("reference_px", reference_px)
    away = -Fraction(offset) if side == "buy" else Fraction(offset)
    try:
        px = round_price(Fraction(reference_px) * (1 + away), instrument.tickSz, side)
        if notional is not None and sz is None:
            sz = build_contract_size(notional, px, instrument)
        elif notional is not None or sz is None:
            raise OkxInvalidRequest("give exactly one of notional and sz")
        return render_post_only_limit_order_payload(
            symbol=instrument.instId,
            side=side,
            px=px,
            sz=sz,
            client_order_id=build_client_order_id(prefix, signal_ts_ms, rung, attempt),
            td_mode=td_mode,
            pos_side=pos_side,
            instrument=instrument,
            tag=tag,
        )
    except OkxInvalidRequest as exc:
        raise OkxInvalidRequest(f"rung {rung} (offset {format_decimal(offset)}): {exc}") from None


def render_eth_entry_batch_payloads(
    *,
    reference_px: Decimal,
    notional_per_rung: Decimal,
    instrument: Instrument,
    signal_ts_ms: int,
    prefix: str,
    offsets: Sequence[Decimal] = ENTRY_OFFSETS,
    attempt: int = 0,
    symbol: str = "ETH-USDT-SWAP",
    td_mode: str = "isolated",
    pos_side: str | None = "long",
) -> list[dict[str, str]]:
    """The three-rung post-only buy ladder: rung i at reference * (1 - offsets[i]), sized at its own price.

    Rungs are numbered 1..3 in the clOrdId. Any rung below minSz fails the whole ladder.
    """
    if len(offsets) != len(ENTRY_OFFSETS):
        raise OkxInvalidRequest(f"the ladder has exactly {len(ENTRY_OFFSETS)} rungs, got {len(offsets)}")
    if symbol != instrument.instId:
        raise OkxInvalidRequest(f"symbol {symbol!r} does not match instrument {instrument.instId!r}")
    return [
        render_ladder_rung_payload(
            reference_px=reference_px,
            offset=offset,
            side="buy",
            instrument=instrument,
            prefix=prefix,
            signal_ts_ms=signal_ts_ms,
            rung=rung,
            attempt=attempt,
            notional=notional_per_rung,
            td_mode=td_mode,
            pos_side=pos_side,
        )
        for rung, offset in enumerate(offsets, start=1)
    ]


# --- request bodies: what the client sends, built here so a preview shows exactly that -------------

PRICED_ORD_TYPES = frozenset({"limit", "post_only", "fok", "ioc"})
ORD_TYPES = PRICED_ORD_TYPES | {"market", "optimal_limit_ioc"}
POS_SIDES = frozenset({"long", "short", "net"})
MGN_MODES = frozenset({"cross", "isolated"})
TD_MODES = MGN_MODES | {"cash", "spot_isolated"}  # cash and spot_isolated are for spot


def order_body(
    symbol: str,
    *,
    side: str,
    ord_type: str,
    sz: Decimal,
    px: Decimal | None = None,
    pos_side: str | None = None,
    td_mode: str = "isolated",
    client_order_id: str | None = None,
    reduce_only: bool | None = None,
    tag: str | None = None,
) -> dict[str, Any]:
    """The body of POST /api/v5/trade/order for these arguments (OkxInvalidRequest if they are bad)."""
    if side not in SIDES:
        raise OkxInvalidRequest(f"side must be buy or sell, got {side!r}")
    if ord_type not in ORD_TYPES:
        raise OkxInvalidRequest(f"unsupported ordType {ord_type!r}")
    if (px is not None) != (ord_type in PRICED_ORD_TYPES):
        raise OkxInvalidRequest(f"ordType {ord_type} {'needs' if px is None else 'takes no'} px")
    if pos_side not in (None, *POS_SIDES):
        raise OkxInvalidRequest(f"posSide must be long, short or net, got {pos_side!r}")
    if td_mode not in TD_MODES:
        raise OkxInvalidRequest(f"tdMode must be cross, isolated, cash or spot_isolated, got {td_mode!r}")
    body: dict[str, Any] = {"instId": symbol, "tdMode": td_mode}
    if client_order_id is not None:
        body["clOrdId"] = check_client_order_id(client_order_id)
    if tag is not None:
        body["tag"] = check_tag(tag)
    body["side"] = side
    if pos_side is not None:
        body["posSide"] = pos_side
    body["ordType"] = ord_type
    if px is not None:
        body["px"] = format_decimal(require_positive("px", px))
    body["sz"] = format_decimal(require_positive("sz", sz))
    if reduce_only is not None:
        body["reduceOnly"] = reduce_only
    return body


def cancel_item(symbol: str, ord_id: str | None, client_order_id: str | None) -> dict[str, str]:
    """One cancel: by ordId when known (OKX prefers it), else by clOrdId."""
    if ord_id:
        return {"instId": symbol, "ordId": ord_id}
    if client_order_id:
        return {"instId": symbol, "clOrdId": client_order_id}
    raise OkxInvalidRequest("a cancel needs an ordId or a clOrdId")


def close_position_body(
    symbol: str, pos_side: str, mgn_mode: str, client_order_id: str | None = None
) -> dict[str, str]:
    """The body of POST /api/v5/trade/close-position (OKX's reduce-only market close)."""
    if pos_side not in POS_SIDES or mgn_mode not in MGN_MODES:
        raise OkxInvalidRequest(f"bad posSide {pos_side!r} or mgnMode {mgn_mode!r}")
    body = {"instId": symbol, "mgnMode": mgn_mode, "posSide": pos_side}
    if client_order_id is not None:
        body["clOrdId"] = check_client_order_id(client_order_id)
    return body


CANCEL_ALL_AFTER_S = range(10, 121)  # OKX's timeOut: 0 disarms, else 10 to 120 seconds


def cancel_all_after_body(timeout_s: int, tag: str | None, *, account_level: bool = False) -> dict[str, str]:
    """The body of POST /api/v5/trade/cancel-all-after: `timeout_s` 0 (disarm) or 10-120 seconds, for the
    orders placed with `tag`. No tag is the account level, which cancels every pending order of the
    account, other machines' and the trader's own too: refused unless `account_level` asks for it."""
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int):
        raise OkxInvalidRequest(f"timeOut is whole seconds, got {timeout_s!r}")
    if timeout_s != 0 and timeout_s not in CANCEL_ALL_AFTER_S:
        raise OkxInvalidRequest(f"timeOut is 0 (disarm) or 10 to 120 seconds, got {timeout_s}")
    if (tag is None) != account_level:
        raise OkxInvalidRequest(
            "Cancel All After needs a tag (a tag-level timer covers only the orders placed with it); "
            "no tag is the account level, which must be asked for with account_level=True"
        )
    body = {"timeOut": str(timeout_s)}
    if tag is not None:
        body["tag"] = check_tag(tag)
    return body


def set_leverage_body(
    symbol: str, lever: Decimal, mgn_mode: str, pos_side: str | None = None
) -> dict[str, str]:
    """The body of POST /api/v5/account/set-leverage (posSide only for isolated long/short mode)."""
    if mgn_mode not in MGN_MODES or pos_side not in (None, *POS_SIDES):
        raise OkxInvalidRequest(f"bad mgnMode {mgn_mode!r} or posSide {pos_side!r}")
    body = {"instId": symbol, "lever": format_decimal(require_positive("lever", lever)), "mgnMode": mgn_mode}
    if pos_side is not None:
        body["posSide"] = pos_side
    return body


# --- algo orders: the stop that lives on OKX ---------------------------------------------------------

TRIGGER_PX_TYPES = frozenset({"last", "mark", "index"})
MARKET_ORD_PX = "-1"  # a TP/SL order price of -1: executed at market
ALGO_CANCEL_MAX = 10  # algos OKX takes in one cancel-algos request


def stop_trigger_price(instrument: Instrument, side: str, px: Decimal, leg: str = "sl") -> Decimal:
    """A trigger price on the tick grid, rounded towards the market so the leg never fires later than
    asked: a sell's stop-loss (or a buy's take-profit) up, a buy's stop-loss (or a sell's take-profit) down.

    `side` is the algo's own side (sell closes a long); `leg` is "sl" or "tp".
    """
    if side not in SIDES or leg not in ("sl", "tp"):
        raise OkxInvalidRequest(f"bad side {side!r} or leg {leg!r}")
    rounding = side if leg == "sl" else ("sell" if side == "buy" else "buy")  # a TP: as the other side's SL
    rounded = round_price(require_positive("trigger px", px), instrument.tickSz, rounding)
    if rounded <= 0:
        raise OkxInvalidRequest(f"trigger px {format_decimal(px)} rounds to {format_decimal(rounded)}")
    return rounded


def render_stop_payload(
    *,
    instrument: Instrument,
    side: str,
    sz: Decimal,
    sl_trigger_px: Decimal,
    algo_client_order_id: str,
    sl_trigger_px_type: str = "last",
    tp_trigger_px: Decimal | None = None,
    tp_trigger_px_type: str = "last",
    pos_side: str | None = None,
    td_mode: str = "isolated",
) -> dict[str, Any]:
    """The body of POST /trade/order-algo for a reduce-only stop of exactly `sz` contracts, executed at
    market (slOrdPx -1), on `sl_trigger_px_type` (last, mark or index); what a preview shows is what
    place_algo_order sends.

    `side` closes the position (sell for a long, buy for a short); `pos_side` is required in long/short
    mode, omitted or "net" in net mode. Triggers are rounded with stop_trigger_price. `sz` must be on the
    lot and at least minSz: it is never rounded, a stop covers exactly the size it is given. With
    `tp_trigger_px` it is an `oco` (a net-mode `conditional` would ignore the take-profit). Never
    closeFraction: that closes the whole position, what others hold included.
    """
    check_client_order_id(algo_client_order_id)
    if side not in SIDES or pos_side not in (None, *POS_SIDES) or td_mode not in MGN_MODES:
        raise OkxInvalidRequest(f"bad side {side!r}, posSide {pos_side!r} or tdMode {td_mode!r}")
    if {sl_trigger_px_type, tp_trigger_px_type} - TRIGGER_PX_TYPES:
        raise OkxInvalidRequest(
            f"trigger price types are last, mark or index, got {sl_trigger_px_type!r}, {tp_trigger_px_type!r}"
        )
    require_positive("sz", sz)
    if sz % instrument.lotSz != 0 or sz < instrument.minSz:
        raise OkxInvalidRequest(
            f"{instrument.instId}: stop sz {format_decimal(sz)} must be a multiple of lotSz "
            f"{format_decimal(instrument.lotSz)} and at least minSz {format_decimal(instrument.minSz)}"
        )
    sl = stop_trigger_price(instrument, side, sl_trigger_px)
    body: dict[str, Any] = {"instId": instrument.instId, "tdMode": td_mode, "side": side}
    if pos_side is not None:
        body["posSide"] = pos_side
    body.update(ordType="conditional" if tp_trigger_px is None else "oco", sz=format_decimal(sz))
    body.update(algoClOrdId=algo_client_order_id, slTriggerPx=format_decimal(sl), slOrdPx=MARKET_ORD_PX)
    body["slTriggerPxType"] = sl_trigger_px_type
    if tp_trigger_px is not None:
        tp = stop_trigger_price(instrument, side, tp_trigger_px, "tp")
        if (tp <= sl) if side == "sell" else (tp >= sl):
            raise OkxInvalidRequest(
                f"the take-profit {format_decimal(tp)} is on the stop's side of {format_decimal(sl)}"
            )
        body.update(tpTriggerPx=format_decimal(tp), tpOrdPx=MARKET_ORD_PX, tpTriggerPxType=tp_trigger_px_type)
    body["reduceOnly"] = True
    return body


def amend_algo_body(
    symbol: str,
    *,
    algo_id: str | None = None,
    algo_client_order_id: str | None = None,
    new_sz: Decimal | None = None,
    new_sl_trigger_px: Decimal | None = None,
    new_sl_trigger_px_type: str | None = None,
    new_tp_trigger_px: Decimal | None = None,
    new_tp_trigger_px_type: str | None = None,
    req_id: str | None = None,
    cxl_on_fail: bool | None = None,
) -> dict[str, Any]:
    """The body of POST /trade/amend-algos: the algo by algoId (OKX prefers it) or algoClOrdId, and what
    changes (at least one). Prices go as given: round them with stop_trigger_price first."""
    prices = {"newSz": new_sz, "newSlTriggerPx": new_sl_trigger_px, "newTpTriggerPx": new_tp_trigger_px}
    changes: dict[str, Any] = {
        k: format_decimal(require_positive(k, v)) for k, v in prices.items() if v is not None
    }
    px_types = {"newSlTriggerPxType": new_sl_trigger_px_type, "newTpTriggerPxType": new_tp_trigger_px_type}
    for name, px_type in px_types.items():
        if px_type is not None and px_type not in TRIGGER_PX_TYPES:
            raise OkxInvalidRequest(f"{name} must be last, mark or index, got {px_type!r}")
        if px_type is not None:
            changes[name] = px_type
    if not changes:
        raise OkxInvalidRequest("an amend needs a new size, trigger price or trigger price type")
    body: dict[str, Any] = {"instId": symbol, **_algo_ref(algo_id, algo_client_order_id)}
    if req_id is not None:
        body["reqId"] = check_client_order_id(req_id)
    if cxl_on_fail is not None:
        body["cxlOnFail"] = cxl_on_fail
    return {**body, **changes}


def cancel_algo_item(symbol: str, algo_id: str | None, algo_client_order_id: str | None) -> dict[str, str]:
    """One item of POST /trade/cancel-algos: by algoId when known (OKX prefers it), else algoClOrdId."""
    return {"instId": symbol, **_algo_ref(algo_id, algo_client_order_id)}


def _algo_ref(algo_id: str | None, algo_client_order_id: str | None) -> dict[str, str]:
    if algo_id:
        return {"algoId": algo_id}
    if algo_client_order_id:
        return {"algoClOrdId": check_client_order_id(algo_client_order_id)}
    raise OkxInvalidRequest("an algo is named by algoId or algoClOrdId")
