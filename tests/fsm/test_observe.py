"""Applying exchange evidence to rungs: the one observation path."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange.records import OkxFill, OkxOrder, parse_fill, parse_order
from fsm.engine.context import TickContext
from fsm.engine.machine import load_machine
from fsm.engine.observe import DEADLINE_MARGIN_MS, observe_fills, observe_rungs
from fsm.engine.orders import CloseOrder, Rung
from fsm.engine.state import LadderState

MACHINE = load_machine("eth_robust_twap_15m", state_dir=Path("unused"))
CL = "ertw900000r1a0"
NOW = 1_767_571_200_000


def order(
    state: str = "live",
    acc: str = "0",
    cancel_source: str = "",
    cl: str = CL,
    ord_id: str = "1234567890123456789",
) -> OkxOrder:
    return parse_order(
        {
            "instId": "ETH-USDT-SWAP",
            "ordId": ord_id,
            "clOrdId": cl,
            "px": "2990",
            "sz": "1",
            "ordType": "post_only",
            "side": "buy",
            "posSide": "long",
            "tdMode": "isolated",
            "state": state,
            "accFillSz": acc,
            "avgPx": "2990" if acc != "0" else "",
            "fillPx": "",
            "fillSz": "0",
            "fillTime": "",
            "tradeId": "",
            "fee": "0",
            "feeCcy": "USDT",
            "cancelSource": cancel_source,
            "reduceOnly": "false",
            "cTime": "1",
            "uTime": "2",
        }
    )


def fill(trade_id: str, bill_id: str, sz: str) -> OkxFill:
    return parse_fill(
        {
            "instId": "ETH-USDT-SWAP",
            "tradeId": trade_id,
            "ordId": "1234567890123456789",
            "clOrdId": CL,
            "billId": bill_id,
            "fillPx": "2990",
            "fillSz": sz,
            "side": "buy",
            "posSide": "long",
            "execType": "M",
            "fee": "-0.01",
            "feeCcy": "USDT",
            "fillTime": "3",
            "ts": "3",
        }
    )


class View:
    def __init__(
        self,
        pending: list[OkxOrder] | None = None,
        details: OkxOrder | None = None,
        fills: list[OkxFill] | None = None,
        now: int = NOW,
        history: OkxOrder | None = None,
    ) -> None:
        self._pending, self._details, self._fills, self._now = pending or [], details, fills or [], now
        self._history = history
        self.fills_asked: list[tuple[str | None, int | None]] = []
        self.full = True  # a full reconcile: the observers ask every endpoint they could need

    def now_ms(self) -> int:
        return self._now

    def source_of(self, order: OkxOrder | None) -> str:
        return "rest"

    def pending_orders(self, symbol: str) -> dict[str, OkxOrder]:
        return {o.ordId: o for o in self._pending}

    def order(self, symbol: str, client_order_id: str) -> OkxOrder | None:
        return self._details

    def order_in_history(self, symbol: str, ord_id: str) -> OkxOrder | None:
        return self._history

    def fills_since(self, symbol: str, bill_id: str | None, begin_ms: int | None = None) -> list[OkxFill]:
        self.fills_asked.append((bill_id, begin_ms))
        return self._fills


def ctx_with(rung_state: str, view: View, *, ladder: str = "entries_open", acc: str = "0") -> TickContext:
    rung = Rung(level=1, clOrdId=CL, px=Decimal("2990"), sz=Decimal("1"), state=rung_state, submit_ts=NOW)
    rung.okx.accFillSz = Decimal(acc)
    state = LadderState(state=ladder, rungs=[rung])
    return MACHINE.context(state, view, armed=False)  # type: ignore[arg-type]


def run(ctx: TickContext) -> list[tuple[str, dict[str, Any]]]:
    journal: list[tuple[str, dict[str, Any]]] = []
    observe_rungs(ctx, lambda k, d: journal.append((k, d)))
    return journal


def test_pending_partial_fill_moves_rung_and_mirrors_okx_fields() -> None:
    ctx = ctx_with("live", View(pending=[order("partially_filled", "0.4")]))
    journal = run(ctx)
    rung = ctx.state.rungs[0]
    assert rung.state == "partially_filled" and rung.accFillSz == Decimal("0.4")
    assert rung.ordId == "1234567890123456789"
    assert [k for k, _ in journal] == ["order"] and journal[0][1]["evidence"]["state"] == "partially_filled"


def test_acc_fill_size_never_decreases() -> None:
    ctx = ctx_with("partially_filled", View(pending=[order("partially_filled", "0.2")]), acc="0.5")
    journal = run(ctx)
    assert ctx.state.rungs[0].accFillSz == Decimal("0.5")
    assert ("anomaly", "accFillSz_decreased") in [(k, d.get("observation")) for k, d in journal]


def test_post_only_cancel_with_source_31_ends_rejected_post_only() -> None:
    ctx = ctx_with("live", View(details=order("canceled", "0", cancel_source="31")))
    run(ctx)
    assert ctx.state.rungs[0].state == "rejected_post_only"


def test_cancel_race_keeps_the_fill() -> None:
    ctx = ctx_with("cancelling", View(details=order("filled", "1")))
    run(ctx)
    assert ctx.state.rungs[0].state == "filled" and ctx.state.rungs[0].accFillSz == 1


def _with_deadline(rung_state: str, now: int) -> TickContext:
    ctx = ctx_with(rung_state, View(details=None, now=now))
    ctx.state.rungs[0].exp_time_ms = NOW + 5_000
    return ctx


def test_not_found_after_an_ambiguous_submit_counts_only_once_its_exp_time_passed() -> None:
    """OKX may still apply the request until its expTime: before that, "does not exist" is not yet known."""
    ctx = _with_deadline("unknown", NOW + 5_000 + DEADLINE_MARGIN_MS)
    assert run(ctx) == [] and ctx.state.rungs[0].state == "unknown"
    ctx = _with_deadline("unknown", NOW + 5_000 + DEADLINE_MARGIN_MS + 1)
    run(ctx)
    assert ctx.state.rungs[0].state == "rejected"


def test_a_crash_mid_submit_is_sent_again_only_once_the_deadline_has_passed() -> None:
    ctx = _with_deadline("submitting", NOW + 3_000)
    assert run(ctx) == [] and ctx.state.rungs[0].state == "submitting"
    ctx = _with_deadline("submitting", NOW + 7_000)
    run(ctx)
    assert ctx.state.rungs[0].state == "rendered"


def test_an_order_gone_from_details_is_looked_up_in_history() -> None:
    ctx = ctx_with("cancelling", View(details=None, history=order("canceled", "0.4")), acc="0.4")
    ctx.state.rungs[0].okx.ordId = "1234567890123456789"
    journal = run(ctx)
    assert ctx.state.rungs[0].state == "canceled" and ctx.state.rungs[0].accFillSz == Decimal("0.4")
    assert journal[-1][1]["observation"] == "seen_canceled"


def test_an_order_found_nowhere_any_more_has_vanished_and_ends_canceled() -> None:
    """OKX keeps a canceled order with no fill about 2 hours: then details and history both lose it."""
    ctx = ctx_with("cancelling", View(details=None, history=None))
    ctx.state.rungs[0].okx.ordId = "1234567890123456789"
    journal = run(ctx)
    assert ctx.state.rungs[0].state == "canceled"
    assert [(k, d["observation"]) for k, d in journal] == [("order", "vanished")]


def test_anomaly_is_journaled_once_and_changes_nothing() -> None:
    other = order("live", cl="ertw900000r2a0", ord_id="1234567890123456780")
    ctx = ctx_with("canceled", View(pending=[order("live"), other]))  # terminal, yet OKX shows it live
    ctx.state.rungs.append(
        Rung(level=2, clOrdId="ertw900000r2a0", px=Decimal(1), sz=Decimal(1), state="live")
    )
    first = run(ctx)
    second = run(ctx)
    assert [k for k, _ in first].count("anomaly") == 1
    assert [k for k, _ in second].count("anomaly") == 0
    assert ctx.state.rungs[0].state == "canceled" and ctx.state.rungs[0].stray
    assert [d["observation"] for k, d in first if k == "anomaly"] == ["stray_working"]


def test_a_stray_that_leaves_the_book_is_journaled_once_and_no_longer_stray() -> None:
    ctx = ctx_with("canceled", View(pending=[order("live")]))
    ctx.state.rungs.append(
        Rung(level=2, clOrdId="ertw900000r2a0", px=Decimal(1), sz=Decimal(1), state="live")
    )
    run(ctx)
    ctx.view = View(pending=[])  # type: ignore[assignment]
    journal = run(ctx)
    assert not ctx.state.rungs[0].stray
    assert ("order", "stray_ended") in [(k, d["observation"]) for k, d in journal]


def test_order_with_another_clordid_is_never_adopted() -> None:
    ctx = ctx_with("live", View(details=order("filled", "1", cl="someoneelse1")))
    assert run(ctx) == [] and ctx.state.rungs[0].state == "live"


def test_fills_are_deduplicated_by_trade_id_and_the_cursor_moves() -> None:
    ctx = ctx_with(
        "partially_filled",
        View(fills=[fill("1", "10", "0.2"), fill("2", "11", "0.3")]),
        ladder="partially_filled",
        acc="0.5",
    )
    journal: list[tuple[str, dict[str, Any]]] = []
    observe_fills(ctx, lambda k, d: journal.append((k, d)))
    observe_fills(ctx, lambda k, d: journal.append((k, d)))  # the same fills again
    assert [f.tradeId for f in ctx.state.fills] == ["1", "2"]
    assert [k for k, _ in journal] == ["fill", "fill"]
    assert ctx.state.fills_cursor == "11"


def test_fills_past_acc_fill_size_are_an_anomaly() -> None:
    ctx = ctx_with(
        "partially_filled", View(fills=[fill("1", "10", "0.7")]), ladder="partially_filled", acc="0.5"
    )
    journal: list[tuple[str, dict[str, Any]]] = []
    observe_fills(ctx, lambda k, d: journal.append((k, d)))
    assert "anomaly" in [k for k, _ in journal]


def test_the_exits_fills_are_recorded_like_the_entries() -> None:
    exit_fill = parse_fill(
        {
            **fill("9", "12", "0.5").raw,
            "clOrdId": "ertw900000r0a0",
            "side": "sell",
            "ordId": "2234567890123456789",
        }
    )
    ctx = ctx_with("filled", View(fills=[fill("1", "10", "0.5"), exit_fill]), ladder="filled", acc="0.5")
    ctx.state.close_request = CloseOrder(requested_by="exit", requested_ts=NOW, clOrdId="ertw900000r0a0")
    ctx.state.exit_client_order_ids = ["ertw900000r0a0"]
    observe_fills(ctx, lambda k, d: None)
    assert [(f.clOrdId, f.side) for f in ctx.state.fills] == [(CL, "buy"), ("ertw900000r0a0", "sell")]
    assert ctx.state.own_open("buy") == 0


def test_the_first_fills_read_begins_just_before_the_first_send_then_at_the_cursor() -> None:
    view = View(fills=[fill("1", "10", "0.5")])
    ctx = ctx_with("partially_filled", view, ladder="partially_filled", acc="0.5")
    observe_fills(ctx, lambda k, d: None)
    observe_fills(ctx, lambda k, d: None)
    assert view.fills_asked == [(None, NOW - 60_000), ("10", 3)]


def quiet_tick(view: View, rung_state: str = "live", acc: str = "0") -> TickContext:
    """One tick's observations of a rung that OKX shows as `view` does, in a tick that is not a full
    reconcile: rungs first, then fills, as the tick runs them."""
    view.full = False
    ctx = ctx_with(rung_state, view, acc=acc)
    ctx.state.rungs[0].okx.ordId = "1234567890123456789"
    ctx.state.rungs[0].okx.state = rung_state
    observe_rungs(ctx, lambda k, d: None)
    observe_fills(ctx, lambda k, d: None)
    return ctx


def test_a_quiet_tick_asks_no_fills_when_orders_pending_shows_nothing_new() -> None:
    view = View(pending=[order("live")])
    quiet_tick(view)
    assert view.fills_asked == []


def test_a_moved_acc_fill_size_on_orders_pending_asks_the_fills() -> None:
    view = View(pending=[order("partially_filled", acc="0.4")], fills=[fill("1", "10", "0.4")])
    ctx = quiet_tick(view)
    assert view.fills_asked == [(None, NOW - 60_000)]
    assert [f.tradeId for f in ctx.state.fills] == ["1"]


def test_an_order_gone_from_pending_asks_the_fills() -> None:
    view = View(details=order("filled", acc="1"), fills=[fill("1", "10", "1")])
    ctx = quiet_tick(view)
    assert view.fills_asked == [(None, NOW - 60_000)]
    assert ctx.state.rungs[0].state == "filled"


def test_fills_still_owed_are_asked_for_until_journaled() -> None:
    view = View(pending=[order("partially_filled", acc="0.4")])
    quiet_tick(view, rung_state="partially_filled", acc="0.4")  # OKX's accFillSz ahead of the fills
    assert view.fills_asked == [(None, NOW - 60_000)]
