"""Decimal rounding to an instrument's tick and lot, contract sizing, and exponent-free formatting.

Rounding is exact (done on fractions), so a value that is already a multiple of the step is never
moved, whatever the precision of the Decimal context.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

from exchange.errors import OkxInvalidRequest
from exchange.records import Instrument

Number = Decimal | Fraction


def _multiple(count: int, step: Decimal) -> Decimal:
    """count * step, exactly; the product keeps step's exponent, so step "0.01" gives "2990.10"."""
    with localcontext() as ctx:
        ctx.prec = len(str(abs(count))) + len(step.as_tuple().digits) + 1
        return Decimal(count) * step


def floor_to_step(value: Number, step: Decimal) -> Decimal:
    """The largest multiple of `step` that is <= value."""
    _check_step(step)
    return _multiple(math.floor(Fraction(value) / Fraction(step)), step)


def ceil_to_step(value: Number, step: Decimal) -> Decimal:
    """The smallest multiple of `step` that is >= value."""
    _check_step(step)
    return _multiple(math.ceil(Fraction(value) / Fraction(step)), step)


def round_price(px: Number, tick_sz: Decimal, side: str) -> Decimal:
    """A limit price on the tick grid, never more aggressive than asked: buys down, sells up."""
    if side == "buy":
        return floor_to_step(px, tick_sz)
    if side == "sell":
        return ceil_to_step(px, tick_sz)
    raise OkxInvalidRequest(f"side must be 'buy' or 'sell', got {side!r}")


def format_decimal(value: Decimal) -> str:
    """Plain positional notation, never an exponent ("1E+1" -> "10", "-0" -> "0")."""
    if not value.is_finite():
        raise OkxInvalidRequest(f"not a finite number: {value}")
    return format(value.copy_abs() if value.is_zero() else value, "f")


def build_contract_size(notional: Decimal, px: Decimal, instrument: Instrument) -> Decimal:
    """Contracts worth `notional` at `px`: notional / (px * ctVal * ctMult), rounded down to lotSz.

    Raises OkxInvalidRequest when the result is below minSz (the order would be refused or, worse,
    rounded by someone else).
    """
    require_positive("notional", notional)
    require_positive("px", px)
    per_contract = Fraction(px) * Fraction(instrument.ctVal) * Fraction(instrument.ctMult)
    exact = Fraction(notional) / per_contract
    sz = floor_to_step(exact, instrument.lotSz)
    if sz < instrument.minSz:
        raise OkxInvalidRequest(
            f"{instrument.instId}: notional {format_decimal(notional)} at px {format_decimal(px)} "
            f"(ctVal {format_decimal(instrument.ctVal)}, ctMult {format_decimal(instrument.ctMult)}) "
            f"is {_approx(exact)} contracts, {format_decimal(sz)} after rounding down to lotSz "
            f"{format_decimal(instrument.lotSz)}: below minSz {format_decimal(instrument.minSz)}"
        )
    return sz


def _approx(value: Fraction) -> str:
    with localcontext() as ctx:
        ctx.prec = 12
        return format_decimal((Decimal(value.numerator) / Decimal(value.denominator)).normalize())


def require_positive(name: str, value: Decimal) -> Decimal:
    """`value` itself, if it is a finite Decimal above zero; OkxInvalidRequest otherwise."""
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise OkxInvalidRequest(f"{name} must be a positive finite Decimal, got {value!r}")
    return value


def _check_step(step: Decimal) -> None:
    if not step.is_finite() or step <= 0:
        raise OkxInvalidRequest(f"a tick or lot size must be positive, got {step}")
