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
BATCH_MAX = 20  # orders OKX takes in one batch-orders request
_CLIENT_ORDER_ID = re.compile(r"[A-Za-z][A-Za-z0-9]*")
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
) -> dict[str, str]:
    """One post_only order: px rounded to tickSz (buys down, sells up), sz down to lotSz, minSz checked."""
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
    payload = {"instId": symbol, "tdMode": td_mode, "clOrdId": client_order_id, "side": side}
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
) -> dict[str, str]:
    """One post-only entry rung `offset` away from the reference, on the far side of it for `side`.

    A buy rests at reference x (1 - offset) rounded down to tickSz, a sell at reference x (1 + offset)
    rounded up. Its size is either `notional` worth of contracts at that price or the explicit `sz`
    (exactly one), rounded down to lotSz; below minSz is an OkxInvalidRequest naming the rung.
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
