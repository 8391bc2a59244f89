"""The risk gate as a pure function: property tests over random requests, exposures, limits and
trading states, and one test per rule that it names the limit, the value and the request."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange import Instrument, render_stop_payload
from fsm.risk.gate import (
    Exposure,
    GateRequest,
    OrderLine,
    gate,
    order_line,
)
from fsm.risk.trading import ACTIVE, Trading, TradingState
from fsm.spec.limits import Limits

INSTRUMENTS = ("ETH-USDT-SWAP", "BTC-USDT-SWAP")
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
maybe_money = st.none() | money
lines = st.builds(OrderLine, inst_id=st.sampled_from(INSTRUMENTS), notional=money, reduce_only=st.booleans())
requests = st.builds(
    GateRequest,
    name=st.just("test request"),
    kind=st.sampled_from(("place", "cancel", "stop", "flatten")),
    orders=st.lists(lines, min_size=1, max_size=20).map(tuple),
    leverage=st.none() | st.decimals(min_value=1, max_value=125, places=0),
)
exposures = st.builds(
    Exposure,
    open_by_instrument=st.dictionaries(st.sampled_from(INSTRUMENTS), money),
    cycle_notional=st.decimals(min_value=0, max_value=Decimal("100000"), places=2),
)
limits = st.builds(
    Limits,
    max_order_notional=maybe_money,
    max_open_notional=maybe_money,
    max_leverage=st.none() | st.decimals(min_value=1, max_value=125, places=0),
    max_cycle_notional=maybe_money,
)
states = st.sampled_from(list(TradingState))


@settings(max_examples=400)
@given(requests, exposures, limits, states)
def test_no_accepted_request_makes_exposure_exceed_a_limit(
    request: GateRequest, exposure: Exposure, lim: Limits, state: TradingState
) -> None:
    if gate(request, exposure, lim, Trading(state)) is not None or request.reduces_only:
        return
    adds = request.adds()
    assert state is TradingState.ACTIVE
    if lim.max_order_notional is not None:
        assert all(o.notional <= lim.max_order_notional for o in request.orders if not o.reduce_only)
    if lim.max_open_notional is not None:
        for inst_id in INSTRUMENTS:
            after = exposure.open_by_instrument.get(inst_id, Decimal(0)) + adds.get(inst_id, Decimal(0))
            assert after <= lim.max_open_notional
        assert exposure.total + sum(adds.values()) <= lim.max_open_notional
    if lim.max_cycle_notional is not None:
        assert exposure.cycle_notional + sum(adds.values()) <= lim.max_cycle_notional
    if lim.max_leverage is not None and request.leverage is not None:
        assert request.leverage <= lim.max_leverage


@settings(max_examples=400)
@given(requests, exposures, limits, states)
def test_every_reducing_request_passes_in_every_trading_state(
    request: GateRequest, exposure: Exposure, lim: Limits, state: TradingState
) -> None:
    reduce_only = GateRequest(
        request.name,
        request.kind,
        tuple(OrderLine(o.inst_id, o.notional, reduce_only=True) for o in request.orders),
        request.leverage,
    )
    assert gate(reduce_only, exposure, lim, Trading(state)) is None
    for kind in ("cancel", "stop", "flatten"):
        assert gate(GateRequest(request.name, kind, request.orders), exposure, lim, Trading(state)) is None


@given(requests, exposures, states)
def test_without_limits_only_the_trading_state_refuses(
    request: GateRequest, exposure: Exposure, state: TradingState
) -> None:
    refusal = gate(request, exposure, Limits(), Trading(state))
    assert (refusal is None) == (request.reduces_only or state is TradingState.ACTIVE)


def line(notional: str, inst_id: str = "ETH-USDT-SWAP") -> OrderLine:
    return OrderLine(inst_id, Decimal(notional))


def test_each_rule_names_the_limit_the_value_and_the_request() -> None:
    batch = GateRequest("ertw1 entries r1, r2", orders=(line("100"), line("300")), leverage=Decimal(10))
    exposure = Exposure({"ETH-USDT-SWAP": Decimal("200"), "BTC-USDT-SWAP": Decimal("700")}, Decimal("50"))
    cases = {
        "max_order_notional 250: ertw1 entries r1, r2 would make it 300.00": Limits(
            max_order_notional=Decimal(250)
        ),
        "max_leverage 5: ertw1 entries r1, r2 would make it 10": Limits(max_leverage=Decimal(5)),
        "max_cycle_notional 400: ertw1 entries r1, r2 would make it 450.00": Limits(
            max_cycle_notional=Decimal(400)
        ),
        "max_open_notional (ETH-USDT-SWAP) 500: ertw1 entries r1, r2 would make it 600.00": Limits(
            max_open_notional=Decimal(500)
        ),
        "max_open_notional (total) 1000: ertw1 entries r1, r2 would make it 1300.00": Limits(
            max_open_notional=Decimal(1000)
        ),
        "halted: operator halt: ertw1 entries r1, r2": Limits(),
    }
    halted = Trading(TradingState.HALTED, "operator halt", 1, "okx-fsm resume --account")
    for said, lim in cases.items():
        trading = halted if said.startswith("halted") else ACTIVE
        assert str(gate(batch, exposure, lim, trading)) == said
    assert gate(batch, exposure, Limits(max_open_notional=Decimal(1300)), ACTIVE) is None


def test_a_batch_is_refused_whole_when_one_order_breaks_a_limit() -> None:
    batch = GateRequest("three rungs", orders=(line("10"), line("10"), line("1000")))
    refusal = gate(batch, Exposure(), Limits(max_order_notional=Decimal(100)), ACTIVE)
    assert refusal is not None and refusal.value == Decimal("1000.00")


ETH = Instrument(
    instId="ETH-USDT-SWAP",
    instType="SWAP",
    ctVal=Decimal("0.1"),
    ctMult=Decimal(1),
    ctValCcy="ETH",
    tickSz=Decimal("0.01"),
    lotSz=Decimal("0.01"),
    minSz=Decimal("0.01"),
    maxLmtSz=None,
    lever=Decimal(100),
    state="live",
    settleCcy="USDT",
    raw={},
)


def test_notional_comes_from_the_payload_and_the_instrument() -> None:
    limit = {
        "instId": "ETH-USDT-SWAP",
        "side": "buy",
        "posSide": "long",
        "ordType": "limit",
        "sz": "3",
        "px": "2900",
    }
    market = {"instId": "ETH-USDT-SWAP", "side": "buy", "ordType": "market", "sz": "2"}
    close = {**limit, "side": "sell"}
    net_exit = {"instId": "ETH-USDT-SWAP", "side": "sell", "ordType": "market", "sz": "1", "reduceOnly": True}

    assert order_line(limit, ETH) == OrderLine("ETH-USDT-SWAP", Decimal("870.0"), reduce_only=False)
    assert order_line(market, ETH, Decimal("3000")).notional == Decimal("600.0")
    assert order_line(close, ETH).reduce_only  # long/short mode: a sell of posSide long closes
    assert order_line(net_exit, ETH, Decimal("3000")).reduce_only


STRICT = Limits(
    max_order_notional=Decimal("0.01"),
    max_open_notional=Decimal("0.01"),
    max_leverage=Decimal(1),
    max_cycle_notional=Decimal("0.01"),
)


@given(
    sz=st.decimals(min_value=1, max_value=10000, places=0).map(lambda z: z / 100),
    pos_side=st.sampled_from(("long", None)),
    take_profit=st.booleans(),
    state=states,
    exposure=exposures,
)
def test_the_stops_place_request_is_reducing_and_passes_any_limits(
    sz: Decimal, pos_side: str | None, take_profit: bool, state: TradingState, exposure: Exposure
) -> None:
    # The stop's body has no price (it executes at market when triggered): it is never valued, so no
    # missing price and no limit refuses the order that protects the position.
    body = render_stop_payload(
        instrument=ETH,
        side="sell",
        sz=sz,
        sl_trigger_px=Decimal("2900"),
        algo_client_order_id="ertw1s0",
        tp_trigger_px=Decimal("3100") if take_profit else None,
        pos_side=pos_side,
    )
    stop = order_line(body, ETH)
    assert stop.reduce_only
    for kind in ("place", "stop"):
        assert (
            gate(GateRequest("stop ertw1s0", kind, (stop,), Decimal(100)), exposure, STRICT, Trading(state))
            is None
        )
