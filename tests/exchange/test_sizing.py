"""Contract sizing and rounding: exact Decimal arithmetic on the instrument's grid, never an exponent."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange import OkxInvalidRequest, build_contract_size
from exchange.sizing import ceil_to_step, floor_to_step, format_decimal, round_price
from tests.exchange.okx_fakes import eth_instrument

STEPS = st.sampled_from(
    [Decimal(s) for s in ("0.01", "0.1", "1", "0.001", "0.00000001", "0.5", "10", "1E+1", "0.10", "0.25")]
)
AMOUNTS = st.decimals(
    min_value=Decimal("0.00000001"), max_value=Decimal("1e9"), allow_nan=False, allow_infinity=False, places=8
)


def test_contract_size_is_notional_over_px_times_ct_val_rounded_down_to_lot() -> None:
    # 100 USDT at 3000 with 0.1 ETH per contract: 0.3333... contracts -> 0.33
    assert build_contract_size(Decimal("100"), Decimal("3000"), eth_instrument()) == Decimal("0.33")
    assert str(build_contract_size(Decimal("600"), Decimal("3000"), eth_instrument())) == "2.00"


def test_contract_size_uses_the_contract_multiplier() -> None:
    inst = eth_instrument(ctMult="10")
    assert build_contract_size(Decimal("1000"), Decimal("3000"), inst) == Decimal("0.33")


def test_contract_size_below_min_sz_is_a_clear_error_naming_the_numbers() -> None:
    with pytest.raises(OkxInvalidRequest) as info:
        build_contract_size(Decimal("2"), Decimal("3000"), eth_instrument(minSz="0.1"))
    text = str(info.value)
    for part in ("ETH-USDT-SWAP", "notional 2", "px 3000", "ctVal 0.1", "0.00", "lotSz 0.01", "minSz 0.1"):
        assert part in text


@pytest.mark.parametrize("bad", [Decimal(0), Decimal(-1), Decimal("NaN"), Decimal("Infinity")])
def test_contract_size_refuses_non_positive_inputs(bad: Decimal) -> None:
    with pytest.raises(OkxInvalidRequest):
        build_contract_size(bad, Decimal("3000"), eth_instrument())
    with pytest.raises(OkxInvalidRequest):
        build_contract_size(Decimal("100"), bad, eth_instrument())


@given(notional=AMOUNTS, px=AMOUNTS, lot=STEPS)
def test_contract_size_is_the_largest_lot_multiple_not_above_the_exact_size(
    notional: Decimal, px: Decimal, lot: Decimal
) -> None:
    inst = eth_instrument(lotSz=str(lot), minSz=str(lot))
    exact = Fraction(notional) / (Fraction(px) * Fraction("0.1"))
    try:
        sz = build_contract_size(notional, px, inst)
    except OkxInvalidRequest:
        assert exact < Fraction(lot)
        return
    assert Fraction(sz) % Fraction(lot) == 0
    assert Fraction(sz) <= exact < Fraction(sz) + Fraction(lot)
    assert "E" not in format_decimal(sz) and "e" not in format_decimal(sz)


@given(value=AMOUNTS, step=STEPS)
def test_rounding_stays_on_the_grid_and_on_the_right_side(value: Decimal, step: Decimal) -> None:
    down, up = floor_to_step(value, step), ceil_to_step(value, step)
    assert Fraction(down) % Fraction(step) == 0 and Fraction(up) % Fraction(step) == 0
    assert down <= value <= up and up - down in (0, step)
    assert round_price(value, step, "buy") == down and round_price(value, step, "sell") == up
    for text in (format_decimal(down), format_decimal(up)):
        assert "E" not in text and "e" not in text
        assert Decimal(text) in (down, up)


def test_rounding_follows_the_step_string_for_decimals() -> None:
    assert format_decimal(floor_to_step(Decimal("2990.1"), Decimal("0.01"))) == "2990.10"
    assert format_decimal(floor_to_step(Decimal("37"), Decimal("1E+1"))) == "30"
    assert format_decimal(Decimal("-0.00")) == "0.00"
    assert format_decimal(Decimal("1.5E-7")) == "0.00000015"


def test_a_value_already_on_the_grid_is_never_moved() -> None:
    assert floor_to_step(Decimal("2991.00"), Decimal("0.01")) == Decimal("2991.00")
    assert ceil_to_step(Decimal("2991.00"), Decimal("0.01")) == Decimal("2991.00")
