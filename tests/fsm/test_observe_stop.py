"""Applying OKX's evidence to the cycle's stops: the one observation path for algos, with records
parsed as the exchange parses them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange import Instrument, OkxAlgoOrder, OkxFill, OkxOrder, Position
from exchange.records import parse_algo_order, parse_fill, parse_order, parse_position
from fsm.engine import ownership
from fsm.engine.context import TickContext
from fsm.engine.machine import load_machine
from fsm.engine.observe import DEADLINE_MARGIN_MS, NOT_FOUND_GRACE_MS, observe_fills
from fsm.engine.observe_stop import observe_stops
from fsm.engine.orders import Fill, PositionMirror, Rung, StopOrder
from fsm.engine.state import LadderState
from tests.exchange.okx_fakes import eth_instrument

MACHINE = load_machine("eth_robust_twap_15m", state_dir=Path("unused"))
ROLES = MACHINE.stops
NOW = 1_767_600_000_000
ALGO_CL = "ertw1767571200000s0"
ALGO_ID = "1836487817828872192"
CHILD = "1836500000000000001"
RUNG_CL = "ertw1767571200000r1a0"


def one(names: frozenset[str]) -> str:
    return sorted(names)[0]


def algo(state: str = "live", cl: str = ALGO_CL, **fields: Any) -> OkxAlgoOrder:
    return parse_algo_order(
        {
            "algoId": ALGO_ID,
            "algoClOrdId": cl,
            "instId": "ETH-USDT-SWAP",
            "ordType": "conditional",
            "state": state,
            "side": "sell",
            "posSide": "long",
            "tdMode": "isolated",
            "sz": "0.99",
            "reduceOnly": "true",
            "slTriggerPx": "2914.59",
            "slOrdPx": "-1",
            "slTriggerPxType": "mark",
            "ordIdList": [],
            "cTime": "1",
            "uTime": "2",
            **fields,
        }
    )


def child_order(state: str = "filled", acc: str = "0.99") -> OkxOrder:
    return parse_order(
        {
            "instId": "ETH-USDT-SWAP",
            "ordId": CHILD,
            "clOrdId": "",
            "px": "",
            "sz": "0.99",
            "ordType": "market",
            "side": "sell",
            "posSide": "long",
            "tdMode": "isolated",
            "state": state,
            "accFillSz": acc,
            "avgPx": "2910",
            "reduceOnly": "true",
            "algoId": ALGO_ID,
            "algoClOrdId": ALGO_CL,
            "cTime": "3",
            "uTime": "4",
        }
    )


def child_fill(trade: str, sz: str) -> OkxFill:
    return parse_fill(
        {
            "instId": "ETH-USDT-SWAP",
            "tradeId": trade,
            "ordId": CHILD,
            "clOrdId": "",
            "billId": f"9{trade}",
            "fillPx": "2910",
            "fillSz": sz,
            "side": "sell",
            "posSide": "long",
            "fee": "-0.1",
            "feeCcy": "USDT",
            "fillTime": "5",
            "ts": "5",
        }
    )


class View:
    """What the stop's observation asks of OKX, answered from the test's records; it counts the asks."""

    def __init__(
        self,
        *,
        pending: list[OkxAlgoOrder] | None = None,
        one_algo: OkxAlgoOrder | None = None,
        child: OkxOrder | None = None,
        fills: list[OkxFill] | None = None,
        held: str = "0.99",
        now: int = NOW,
        full: bool = True,
    ) -> None:
        self._pending, self._one, self._child, self._fills = pending or [], one_algo, child, fills or []
        self.held, self._now, self.full = held, now, full
        self.asked: list[str] = []

    def now_ms(self) -> int:
        return self._now

    def pending_algos(self, symbol: str) -> dict[str, OkxAlgoOrder]:
        self.asked.append("orders-algo-pending")
        return {a.algoClOrdId: a for a in self._pending if a.algoClOrdId}

    def algo(self, algo_id: str | None, algo_client_order_id: str) -> OkxAlgoOrder | None:
        self.asked.append("order-algo")
        return self._one

    def order_by_id(self, symbol: str, ord_id: str) -> OkxOrder | None:
        self.asked.append("order")
        return self._child

    def fills_since(self, symbol: str, bill_id: str | None, begin_ms: int | None = None) -> list[OkxFill]:
        return self._fills

    def position(self, symbol: str, pos_side: str) -> Position | None:
        return parse_position(
            {"instId": symbol, "posSide": pos_side, "mgnMode": "isolated", "pos": self.held, "avgPx": "2974"}
        )

    def instrument(self, symbol: str) -> Instrument:
        return eth_instrument()

    def source_of(self, record: OkxOrder | OkxAlgoOrder | None) -> str:
        return "rest"

    def pushed_algo(self, algo_client_order_id: str) -> OkxAlgoOrder | None:
        return None


def ctx_with(role: frozenset[str], view: View, **fields: Any) -> TickContext:
    stop = StopOrder(
        n=0,
        algoClOrdId=ALGO_CL,
        state=one(role),
        sz=Decimal("0.99"),
        slTriggerPx=Decimal("2914.59"),
        tpTriggerPx=None,
        trigger_px_type="mark",
        submit_ts=NOW - 60_000,
    )
    for name, value in fields.items():
        setattr(stop, name, value)
    rung = Rung(level=1, clOrdId=RUNG_CL, px=Decimal("2974"), sz=Decimal("0.99"), state="filled")
    rung.submit_ts = NOW
    rung.okx.accFillSz = Decimal("0.99")
    entry = Fill("1", "1", "7", RUNG_CL, Decimal("2974"), Decimal("0.99"), Decimal(0), "USDT", 1, "buy")
    state = LadderState(state="filled", rungs=[rung], stops=[stop], fills=[entry])
    state.pos_mode = "long_short_mode"
    state.position = PositionMirror("ETH-USDT-SWAP", "long", Decimal("0.99"), None, None, None, NOW - 1)
    return MACHINE.context(state, view, armed=False)  # type: ignore[arg-type]


def run(ctx: TickContext) -> list[tuple[str, dict[str, Any]]]:
    journal: list[tuple[str, dict[str, Any]]] = []
    observe_stops(ctx, lambda kind, data: journal.append((kind, data)))
    return journal


def test_a_working_stop_cancelled_by_someone_else_is_an_anomaly_and_ends() -> None:
    ctx = ctx_with(ROLES.working, View(one_algo=algo("canceled")))
    ctx.state.stops[0].okx.algoId = ALGO_ID
    journal = run(ctx)
    assert ctx.state.stops[0].state in ROLES.ended
    assert [(k, d["observation"]) for k, d in journal] == [
        ("anomaly", "stop_canceled_by_hand"),
        ("order", "seen_canceled"),
    ]


def test_our_own_cancel_seen_ended_is_no_anomaly() -> None:
    ctx = ctx_with(ROLES.cancel_requested, View(one_algo=algo("canceled")))
    journal = run(ctx)
    assert ctx.state.stops[0].state in ROLES.ended
    assert [k for k, _ in journal] == ["order"]


def test_a_stop_in_flight_that_okx_does_not_show_is_sent_again_or_given_up_after_the_grace() -> None:
    """Algo places carry no expTime: within the grace after the send OKX's "no such algo" is
    `not_found_yet` (the place may still apply), past it `not_found`; the stop machine sends an
    ambiguous place again at once (the same algoClOrdId), renders it again once it can no longer apply
    (so an exit is not held up by it), and gives up a 51065 only after the grace."""
    deadline = NOW + NOT_FOUND_GRACE_MS + DEADLINE_MARGIN_MS
    stops = MACHINE.stop_machine
    sent = stops.observe(ROLES.initial, "submit")[1]
    ambiguous, duplicate = stops.observe(sent, "ack_ambiguous")[1], stops.observe(sent, "ack_duplicate")[1]
    ctx = ctx_with(frozenset({ambiguous}), View(now=NOW + 1), submit_ts=NOW)
    run(ctx)
    assert ctx.state.stops[0].state in ROLES.unseen  # may still apply: sent again at once
    resent = ctx.state.stops[0].state
    ctx = ctx_with(frozenset({resent}), View(now=NOW + 2), submit_ts=NOW)
    assert run(ctx) == [] and ctx.state.stops[0].state == resent  # not sent yet (unarmed): waits
    for state in (ambiguous, resent):  # past the grace: it can no longer apply, rendered again
        ctx = ctx_with(frozenset({state}), View(now=deadline + 1), submit_ts=NOW)
        run(ctx)
        assert ctx.state.stops[0].state in ROLES.unsent
    ctx = ctx_with(frozenset({duplicate}), View(now=deadline), submit_ts=NOW)
    assert run(ctx) == [] and ctx.state.stops[0].state == duplicate
    ctx = ctx_with(frozenset({duplicate}), View(now=deadline + 1), submit_ts=NOW)
    run(ctx)
    assert ctx.state.stops[0].state in ROLES.refused


def test_a_stop_found_pending_is_taken_in_and_mirrored() -> None:
    ctx = ctx_with(ROLES.in_flight, View(pending=[algo("live")]))
    run(ctx)
    stop = ctx.state.stops[0]
    assert stop.state in ROLES.working
    assert (stop.okx.algoId, stop.okx.sz, stop.okx.slTriggerPxType) == (ALGO_ID, Decimal("0.99"), "mark")


def test_an_algo_with_another_algo_client_order_id_is_never_adopted() -> None:
    ctx = ctx_with(ROLES.in_flight, View(one_algo=algo("live", cl="someoneelses0")))
    assert run(ctx) == [] and ctx.state.stops[0].state in ROLES.in_flight


def test_a_fired_stop_is_settled_by_its_child_order_and_the_childs_fills_by_ordid() -> None:
    fired = algo("effective", ordIdList=[CHILD], actualSz="0.99", actualSide="sl", triggerTime="5")
    fills = [child_fill("80", "0.5"), child_fill("81", "0.49")]
    view = View(one_algo=fired, child=child_order(), fills=fills)
    ctx = ctx_with(ROLES.working, view)
    journal: list[tuple[str, dict[str, Any]]] = []
    observe_stops(ctx, lambda kind, data: journal.append((kind, data)))
    stop = ctx.state.stops[0]
    assert stop.state in ROLES.fired and ctx.fills_due
    assert [(c.ordId, c.state, c.accFillSz) for c in stop.children] == [(CHILD, "filled", Decimal("0.99"))]
    assert not ownership.fills_accounted(ctx.state)  # its fills are owed until journaled
    observe_fills(ctx, lambda kind, data: journal.append((kind, data)))
    journaled = [d for k, d in journal if k == "fill"]
    assert [(f["tradeId"], f["algoClOrdId"]) for f in journaled] == [("80", ALGO_CL), ("81", ALGO_CL)]
    assert ownership.fills_accounted(ctx.state) and ctx.state.own_open("buy") == 0


def test_an_ended_stop_that_works_on_okx_is_a_stray_journaled_once() -> None:
    view = View(pending=[algo("live")])
    ctx = ctx_with(ROLES.refused, view, reject={"sCode": "not_found", "sMsg": ""})
    first, second = run(ctx), run(ctx)
    assert ctx.state.stops[0].stray and ctx.state.stops[0].okx.algoId == ALGO_ID
    assert [(k, d["observation"]) for k, d in first] == [("anomaly", "stray_working")] and second == []


def test_a_quiet_tick_asks_nothing_of_a_working_stop_until_the_position_moves() -> None:
    view = View(pending=[algo("live")], full=False)
    ctx = ctx_with(ROLES.working, view)
    assert run(ctx) == [] and view.asked == []
    view.held = "0.5"  # the position moved (a stop that fired, a hand trade): ask
    run(ctx)
    assert view.asked == ["orders-algo-pending"]
    full = View(pending=[algo("live")], full=True)
    run(ctx_with(ROLES.working, full))
    assert full.asked == ["orders-algo-pending"]  # a full reconcile always asks
