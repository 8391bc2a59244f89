"""The ladder renderer: every rung on the side of the reference its entry side rests on, on the grid."""

from __future__ import annotations

import dataclasses
import math
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange import Instrument, OkxInvalidRequest
from exchange.records import parse_instrument
from fsm.engine.ladder import render_ladder
from fsm.engine.machine import load_ladder_spec
from fsm.spec.ladder import LadderParams
from tests.exchange.okx_fakes import BTC_SWAP, ETH_SWAP

REPO = Path(__file__).resolve().parents[2]
LADDER = REPO / "machines" / "eth_robust_twap_15m.yaml"
SIGNAL_TS = 1_700_000_000_000
ETH = parse_instrument(ETH_SWAP)
BTC = parse_instrument(BTC_SWAP)


def eth_params(**changes: object) -> LadderParams:
    params = LadderParams.from_mapping(load_ladder_spec(LADDER).params, base_dir=REPO)
    return dataclasses.replace(params, **changes)  # type: ignore[arg-type]


def test_the_eth_machine_renders_the_seed_ladder() -> None:
    payloads = render_ladder(Decimal("3000"), eth_params(), ETH, SIGNAL_TS, 0, pos_side="long")
    assert [(p["side"], p["posSide"], p["px"], p["sz"]) for p in payloads] == [
        ("buy", "long", "2991.00", "0.33"),
        ("buy", "long", "2982.00", "0.33"),
        ("buy", "long", "2973.00", "0.33"),
    ]
    assert [p["clOrdId"] for p in payloads] == [f"ertw{SIGNAL_TS}r{i}a0" for i in (1, 2, 3)]


def test_a_four_rung_sell_ladder_with_explicit_sizes() -> None:
    params = eth_params(
        side="sell",
        pos_side="short",
        offsets=tuple(Decimal(o) for o in ("0.002", "0.004", "0.006", "0.008")),
        notional_per_rung=None,
        sizes=tuple(Decimal(z) for z in ("0.5", "0.3", "0.2", "0.105")),
    )
    payloads = render_ladder(Decimal("3000.01"), params, ETH, SIGNAL_TS, 2, pos_side="short")
    # 3000.01 x 1.002 = 3006.01002 -> 3006.02 (a sell rounds up); 0.105 -> 0.10 (down to the lot)
    assert [(p["px"], p["sz"]) for p in payloads] == [
        ("3006.02", "0.50"),
        ("3012.02", "0.30"),
        ("3018.02", "0.20"),
        ("3024.02", "0.10"),
    ]
    assert {(p["side"], p["posSide"], p["ordType"]) for p in payloads} == {("sell", "short", "post_only")}
    assert [p["clOrdId"][-4:] for p in payloads] == ["r1a2", "r2a2", "r3a2", "r4a2"]


def test_net_mode_orders_carry_pos_side_net() -> None:
    payloads = render_ladder(Decimal("3000"), eth_params(), ETH, SIGNAL_TS, 0, pos_side="net")
    assert {p["posSide"] for p in payloads} == {"net"}


def test_a_rung_below_min_sz_is_refused_naming_it() -> None:
    params = eth_params(notional_per_rung=None, sizes=(Decimal("1"), Decimal("0.004"), Decimal("1")))
    with pytest.raises(OkxInvalidRequest, match=re.escape("rung 2 (offset 0.006): ETH-USDT-SWAP: sz 0.004")):
        render_ladder(Decimal("3000"), params, ETH, SIGNAL_TS, 0, pos_side="long")


def _floor(value: Fraction, step: Decimal) -> Fraction:
    return math.floor(value / Fraction(step)) * Fraction(step)


offsets_st = st.lists(
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("0.2"), places=4), min_size=1, max_size=20
).map(lambda xs: tuple(sorted(set(xs))))


@st.composite
def ladders(draw: st.DrawFn) -> tuple[LadderParams, Instrument, Decimal]:
    side = draw(st.sampled_from(["buy", "sell"]))
    offsets = draw(offsets_st)
    sizes = None
    notional = None
    if draw(st.booleans()):
        size = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("50"), places=3)
        sizes = tuple(draw(st.lists(size, min_size=len(offsets), max_size=len(offsets))))
    else:
        notional = draw(st.decimals(min_value=Decimal("1"), max_value=Decimal("100000"), places=2))
    params = eth_params(
        side=side,
        pos_side="long" if side == "buy" else "short",
        offsets=offsets,
        notional_per_rung=notional,
        sizes=sizes,
    )
    instrument = draw(st.sampled_from([ETH, BTC]))
    reference = draw(st.decimals(min_value=Decimal("100"), max_value=Decimal("200000"), places=2))
    return params, instrument, reference


@given(ladders())
def test_every_rung_rests_on_its_side_of_the_reference_on_the_grid(
    ladder: tuple[LadderParams, Instrument, Decimal],
) -> None:
    params, inst, ref = ladder
    tick, lot = Fraction(inst.tickSz), Fraction(inst.lotSz)
    wanted: list[Fraction] = []  # each rung's size as the YAML asks for it, down to the lot
    for i, offset in enumerate(params.offsets):
        exact = Fraction(ref) * (1 - Fraction(offset) if params.side == "buy" else 1 + Fraction(offset))
        px = _floor(exact, inst.tickSz) if params.side == "buy" else -_floor(-exact, inst.tickSz)
        asked = (
            Fraction(params.sizes[i])
            if params.sizes
            else Fraction(params.notional_per_rung or 0) / (px * Fraction(inst.ctVal))
        )
        wanted.append(_floor(asked, inst.lotSz))
    too_small = [i + 1 for i, sz in enumerate(wanted) if sz < Fraction(inst.minSz)]
    pos_side = params.pos_side
    if too_small:
        with pytest.raises(OkxInvalidRequest, match=rf"^rung {too_small[0]} \(offset .*below minSz"):
            render_ladder(ref, params, inst, SIGNAL_TS, 0, pos_side=pos_side)
        return
    payloads = render_ladder(ref, params, inst, SIGNAL_TS, 0, pos_side=pos_side)
    assert len(payloads) == len(params.offsets)
    assert [p["clOrdId"] for p in payloads] == [f"ertw{SIGNAL_TS}r{i}a0" for i in range(1, len(payloads) + 1)]
    for payload, offset, sz in zip(payloads, params.offsets, wanted, strict=True):
        px = Fraction(Decimal(payload["px"]))
        exact = Fraction(ref) * (1 - Fraction(offset) if params.side == "buy" else 1 + Fraction(offset))
        assert (payload["side"], payload["posSide"], payload["instId"]) == (
            params.side,
            pos_side,
            inst.instId,
        )
        assert px % tick == 0 and Fraction(Decimal(payload["sz"])) % lot == 0
        if params.side == "buy":  # below the reference, rounded down: never dearer than asked
            assert px <= exact < px + tick and px < Fraction(ref)
        else:  # above the reference, rounded up: never cheaper than asked
            assert px - tick < exact <= px and px > Fraction(ref)
        assert Fraction(Decimal(payload["sz"])) == sz >= Fraction(inst.minSz)
        assert "E" not in payload["px"] + payload["sz"]
