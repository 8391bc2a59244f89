"""Decimal parsing and OKX-style formatting: every number crosses the wire as a plain string."""

from __future__ import annotations

import re
from decimal import Decimal

_PLAIN = re.compile(r"^\d+(\.\d+)?$")


def fmt(value: Decimal) -> str:
    """Render without exponent and without trailing zeros ("0.10" -> "0.1", "3E+3" -> "3000")."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def parse_plain(text: str) -> Decimal | None:
    """A non-negative decimal written plainly (no sign, no exponent), or None when it is not one."""
    if not _PLAIN.match(text):
        return None
    return Decimal(text)


def to_decimal(value: str | int | float | Decimal, name: str) -> Decimal:
    """A finite Decimal from a control's or a flag's value; ValueError naming `name` otherwise."""
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{name} must be a number") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number")
    return result
