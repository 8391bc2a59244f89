"""The protective stop's arithmetic and guards: its size, its trigger prices, when it is missing, due a
resize, working or refused, and the cycle's exit reason, over states built in memory."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from exchange import Instrument, Position
from exchange.records import parse_position
from fsm.engine import guards, stops
from fsm.engine.context import TickContext
from fsm.engine.machine import load_machine
from fsm.engine.orders import CloseOrder, Fill, OkxMirror, StopOrder
from fsm.engine.pnl import exit_reason
from fsm.engine.state import LadderState
from fsm.spec.ladder import StopParams
from tests.exchange.okx_fakes import eth_instrument

MACHINE = load_machine("eth_robust_twap_15m", state_dir=Path("unused"))
ROLES = MACHINE.stops
NOW = 1_767_600_000_000
CYCLE = 1_767_571_200_000


def one(names: frozenset[str]) -> str:
    """The stop machine's state with a role, whatever the YAML calls it."""
    return sorted(names)[0]


class View:
    """What the stop's guards ask of OKX: the time, the position on our side, the instrument."""

    def __init__(self, held: str | None, instrument: Instrument | None = None) -> None:
        self.held = held
        self._instrument = instrument or eth_instrument()

    def now_ms(self) -> int:
        return NOW

    def position(self, symbol: str, pos_side: str) -> Position | None:
        if self.held is None:
            return None
        return parse_position(
            {"instId": symbol, "posSide": pos_side, "mgnMode": "isolated", "pos": self.held, "avgPx": "3000"}
        )

    def instrument(self, symbol: str) -> Instrument:
        return self._instrument


def entry(trade: str, px: str, sz: str, side: str = "buy", ord_id: str = "1", cl: str = "ertwXr1a0") -> Fill:
    return Fill(trade, trade, ord_id, cl, Decimal(px), Decimal(sz), Decimal("-0.01"), "USDT", 1, side)


def ctx(fills: list[Fill], held: str | None = "0.99", *, side: str = "buy") -> TickContext:
    params = MACHINE.params
    if side == "sell":
        params = dataclasses.replace(params, side="sell", pos_side="short")
    state = LadderState(state="filled", fills=fills, pos_mode="long_short_mode", last_signal_candle_ts=CYCLE)
    context = MACHINE.context(state, View(held), armed=True)  # type: ignore[arg-type]
    context.params = params
    return context


def placed(c: TickContext, role: frozenset[str], **fields: object) -> StopOrder:
    want = stops.target(c.params, c.state, c.view)
    assert want is not None
    stop = StopOrder(
        n=len(c.state.stops),
        algoClOrdId=stops.stop_client_order_id("ertw", CYCLE, len(c.state.stops)),
        state=one(role),
        sz=want.sz,
        slTriggerPx=want.slTriggerPx,
        tpTriggerPx=want.tpTriggerPx,
        trigger_px_type="mark",
        submit_ts=NOW - 60_000,
    )
    for name, value in fields.items():
        setattr(stop, name, value)
    c.state.stops.append(stop)
    return stop


def test_the_stop_sits_loss_below_the_own_average_entry_rounded_down_for_a_long() -> None:
    c = ctx([entry("1", "3000.00", "0.33"), entry("2", "2990.00", "0.66")])
    want = stops.target(c.params, c.state, c.view)
    # average entry 2993.3333..., x 0.98 = 2933.4666...: down to the tick, never tighter than 2 %
    assert want == stops.StopTarget(Decimal("0.99"), Decimal("2933.46"), None)


def test_a_short_ladders_stop_sits_above_rounded_up_and_its_take_profit_below_rounded_down() -> None:
    c = ctx([entry("1", "3000.01", "0.5", side="sell")], held="0.5", side="sell")
    c.params = dataclasses.replace(c.params, take_profit=Decimal("0.03"))
    want = stops.target(c.params, c.state, c.view)
    # 3000.01 x 1.02 = 3060.0102 -> 3060.02; 3000.01 x 0.97 = 2910.0097 -> 2910.00
    assert want == stops.StopTarget(Decimal("0.5"), Decimal("3060.02"), Decimal("2910.00"))


def test_the_stop_never_covers_more_than_okx_still_holds_of_ours() -> None:
    c = ctx([entry("1", "3000", "0.99")], held="0.4")  # a hand trade closed part of it
    assert stops.target(c.params, c.state, c.view).sz == Decimal("0.4")  # type: ignore[union-attr]
    c.view.held = "5"  # type: ignore[attr-defined]  # another machine holds the same side too
    assert stops.target(c.params, c.state, c.view).sz == Decimal("0.99")  # type: ignore[union-attr]
    c.view.held = None  # type: ignore[attr-defined]  # closed by hand: nothing to protect
    assert stops.target(c.params, c.state, c.view) is None


def test_no_stop_declared_means_no_stop_and_no_guard_asks_for_one() -> None:
    c = ctx([entry("1", "3000", "0.99")])
    c.params = dataclasses.replace(c.params, stop=None)
    assert stops.target(c.params, c.state, c.view) is None
    assert not guards.stop_missing(c) and not guards.stop_refused(c) and not guards.stop_working(c)


def test_the_algo_client_order_id_counts_placements_and_fits_okx() -> None:
    assert stops.stop_client_order_id("ertw", CYCLE, 2) == "ertw1767571200000s2"
    with pytest.raises(ValueError, match="at most 32"):
        stops.stop_client_order_id("abcdefgh", CYCLE, 10**11)


def test_a_stop_is_missing_until_one_is_placed_and_again_once_it_ended() -> None:
    c = ctx([entry("1", "3000", "0.99")])
    assert guards.stop_missing(c)
    stop = placed(c, ROLES.working)
    assert not guards.stop_missing(c) and guards.stop_working(c)
    stop.state = one(ROLES.ended)  # cancelled by hand (or for a replacement)
    assert guards.stop_missing(c) and not guards.stop_working(c)
    c.view.held = None  # type: ignore[attr-defined]
    assert not guards.stop_missing(c)  # nothing left to protect


def test_a_refusal_for_the_price_is_final_and_any_other_is_placed_again_after_the_retry() -> None:
    c = ctx([entry("1", "3000", "0.99")])
    stop = placed(c, ROLES.refused, reject={"sCode": "51279", "sMsg": "TP/SL against last price"})
    assert guards.stop_refused(c) and not guards.stop_missing(c)
    stop.reject = {"sCode": "50011", "sMsg": "Too Many Requests"}
    assert not guards.stop_refused(c) and guards.stop_missing(c)
    stop.submit_ts = NOW - 1_000  # within cancel_retry_seconds: not yet
    assert not guards.stop_missing(c)
    stop.reject, stop.okx.state = None, stops.ALGO_ORDER_FAILED  # it fired and its child failed
    assert guards.stop_refused(c)


def test_a_fired_stop_works_until_its_child_ended_with_its_fills_journaled() -> None:
    c = ctx([entry("1", "3000", "0.99")])
    stop = placed(c, ROLES.fired)
    assert guards.stop_working(c) and not guards.stop_missing(c)  # OKX has not named its child yet
    stop.okx.ordIdList = ["77"]
    stop.children = [OkxMirror(ordId="77", state="filled", accFillSz=Decimal("0.99"))]
    assert guards.stop_working(c)  # its fills are not journaled yet: never a second exit
    c.state.fills.append(entry("9", "2930", "0.99", side="sell", ord_id="77", cl=""))
    assert not guards.stop_working(c)
    assert exit_reason(c.state, "buy") == "stop"
    stop.okx.actualSide = "tp"
    assert exit_reason(c.state, "buy") == "take_profit"


def test_a_stop_shorter_than_the_own_size_leaves_the_rest_missing_once_it_fired() -> None:
    c = ctx([entry("1", "3000", "0.99")])
    stop = placed(c, ROLES.fired, sz=Decimal("0.33"))
    stop.okx.ordIdList = ["77"]
    stop.children = [OkxMirror(ordId="77", state="filled", accFillSz=Decimal("0.33"))]
    c.state.fills.append(entry("9", "2930", "0.33", side="sell", ord_id="77", cl=""))
    c.view.held = "0.66"  # type: ignore[attr-defined]
    assert guards.stop_missing(c)


def test_a_resize_is_due_when_more_filled_or_okx_shows_less_than_asked_or_otherwise_after_the_retry() -> None:
    c = ctx([entry("1", "3000", "0.33")], held="0.33")
    stop = placed(c, ROLES.working)
    assert not guards.stop_resize_due(c)
    c.state.fills.append(entry("2", "2990", "0.33", cl="ertwXr2a0"))
    c.view.held = "0.66"  # type: ignore[attr-defined]
    assert guards.stop_resize_due(c)  # more filled: a new size and a new average entry
    stop.sz, stop.slTriggerPx, stop.tpTriggerPx = stops.target(c.params, c.state, c.view)  # type: ignore[misc]
    stop.amend_ts = NOW  # amended in this tick: what OKX showed was read before it
    stop.okx.sz, stop.okx.slTriggerPx = Decimal("0.33"), Decimal("2940")
    assert not guards.stop_resize_due(c)
    stop.amend_ts = NOW - 1_000  # read after an earlier tick's amend, OKX protects less than we own
    assert guards.stop_resize_due(c)  # a lost or late amend: the same values again, at once
    stop.okx.sz = stop.sz  # the size shows; only the trigger is not what was asked yet
    assert not guards.stop_resize_due(c)
    stop.amend_ts = NOW - 60_000  # a retry interval later OKX still shows the old trigger: amend again
    assert guards.stop_resize_due(c)


def test_cancel_is_due_for_a_working_stop_or_a_stray_but_not_twice_within_the_retry() -> None:
    c = ctx([entry("1", "3000", "0.99")])
    stop = placed(c, ROLES.working)
    assert guards.stop_cancel_due(c)
    stop.state, stop.cancel_sent_ts = one(ROLES.cancel_requested), NOW - 1_000
    assert not guards.stop_cancel_due(c) and guards.stop_working(c)
    stop.cancel_sent_ts = NOW - 60_000  # OKX still shows it: ask again
    assert guards.stop_cancel_due(c)
    stop.state, stop.stray, stop.cancel_sent_ts = one(ROLES.refused), True, None  # landed after its grace
    assert guards.stop_cancel_due(c) and guards.stop_working(c)


@pytest.mark.parametrize(
    ("requested_by", "reason"),
    [("exit", "timed"), ("operator", "operator"), ("flatten", "operator"), ("stop", "stop")],
)
def test_our_own_exit_gives_the_reason_it_was_sent_for(requested_by: str, reason: str) -> None:
    c = ctx([entry("1", "3000", "0.99"), entry("2", "3010", "0.99", side="sell", cl="ertwXr0a0")])
    c.state.close_request = CloseOrder(requested_by=requested_by, requested_ts=NOW, clOrdId="ertwXr0a0")
    assert exit_reason(c.state, "buy") == reason


def test_a_position_closed_outside_the_machine_ends_by_hand_and_no_entry_has_no_reason() -> None:
    c = ctx([entry("1", "3000", "0.99")], held=None)
    assert exit_reason(c.state, "buy") == "hand"
    assert exit_reason(LadderState(state="closed"), "buy") is None


def test_the_params_type_the_stop_block() -> None:
    assert MACHINE.params.stop == StopParams(loss=Decimal("0.02"), trigger_px_type="mark", on_refused="exit")
