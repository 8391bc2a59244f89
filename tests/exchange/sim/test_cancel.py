"""Cancels: the code for an order already canceled (a quirk), and cancels that take effect after their
answer (the async_cancel fault), with fills landing in between."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

CANCEL = "POST /api/v5/trade/cancel-order"
CANCEL_BATCH = "POST /api/v5/trade/cancel-batch-orders"
START_MS = 1767571200000


def _rest(okx: RawOkx, sz: str = "1", client_order_id: str = "") -> str:
    fields = {"side": "buy", "posSide": "long", "ordType": "post_only", "px": "2990", "sz": sz}
    answer = okx.place(**fields, **({"clOrdId": client_order_id} if client_order_id else {}))
    ord_id: str = answer["data"][0]["ordId"]
    return ord_id


def _cancel(okx: RawOkx, **ids: str) -> dict[str, Any]:
    item: dict[str, Any] = okx.post(CANCEL.split(" ")[1], {"instId": "ETH-USDT-SWAP", **ids})["data"][0]
    return item


def _fills_of(sim: Simulator, ord_id: str) -> list[str]:
    return [f["fillSz"] for f in sim.state()["fills"] if f["ordId"] == ord_id]


@pytest.mark.parametrize("code", ["51400", "51401"])
def test_a_cancel_of_a_canceled_order_answers_the_quirk_code(sim: Simulator, okx: RawOkx, code: str) -> None:
    sim.set_quirks({"cancel_canceled_code": code})
    ord_id = _rest(okx, client_order_id="q1")
    assert _cancel(okx, ordId=ord_id)["sCode"] == "0"
    again = _cancel(okx, ordId=ord_id)
    assert again["sCode"] == code
    assert again["sMsg"].startswith("Order cancellation failed" if code == "51400" else "Cancellation failed")
    assert _cancel(okx, clOrdId="q1")["sCode"] == code


def test_a_cancel_of_a_filled_or_unknown_order_stays_51400_under_the_51401_quirk(
    sim: Simulator, okx: RawOkx
) -> None:
    sim.set_quirks({"cancel_canceled_code": "51401"})
    ord_id = _rest(okx, sz="0.01")
    sim.set_price("2990")
    assert okx.order(ord_id)["state"] == "filled"
    assert _cancel(okx, ordId=ord_id)["sCode"] == "51400"
    assert _cancel(okx, ordId="1234567890")["sCode"] == "51400"


def test_an_async_cancel_is_accepted_then_done_after_the_next_steps_fills(
    sim: Simulator, okx: RawOkx
) -> None:
    ord_id = _rest(okx, sz="1")
    sim.set_faults([{"endpoint": CANCEL, "kind": "async_cancel"}])
    assert _cancel(okx, ordId=ord_id)["sCode"] == "0"
    order = okx.order(ord_id)
    assert (order["state"], order["cancelSource"]) == ("live", "")  # OKX REST shows no canceling state
    pending = okx.get("/api/v5/trade/orders-pending")["data"]
    assert [o["ordId"] for o in pending] == [ord_id]
    second = _cancel(okx, ordId=ord_id)
    assert (second["sCode"], second["sMsg"]) == (
        "51410",
        "Cancellation failed as the order is already under cancelling status.",
    )

    sim.set_price("2990")  # the step matches first (half the order fills), then the cancel lands
    order = okx.order(ord_id)
    assert (order["state"], order["accFillSz"], order["cancelSource"]) == ("canceled", "0.5", "1")
    assert _fills_of(sim, ord_id) == ["0.5"]
    assert _cancel(okx, ordId=ord_id)["sCode"] == "51400"


def test_an_order_filled_before_its_async_cancel_lands_stays_filled(sim: Simulator, okx: RawOkx) -> None:
    ord_id = _rest(okx, sz="0.01")
    sim.set_faults([{"endpoint": CANCEL, "kind": "async_cancel"}])
    assert _cancel(okx, ordId=ord_id)["sCode"] == "0"
    sim.set_price("2990")
    order = okx.order(ord_id)
    assert (order["state"], order["accFillSz"], order["cancelSource"]) == ("filled", "0.01", "")


def test_an_async_batch_cancel_lands_at_the_next_whole_second_step(sim: Simulator, okx: RawOkx) -> None:
    ids = [_rest(okx), _rest(okx)]
    sim.set_faults([{"endpoint": "*", "kind": "async_cancel"}])
    answer = okx.post(
        CANCEL_BATCH.split(" ")[1], [{"instId": "ETH-USDT-SWAP", "ordId": ord_id} for ord_id in ids]
    )
    assert [d["sCode"] for d in answer["data"]] == ["0", "0"]
    sim.advance("0.5")
    assert [okx.order(i)["state"] for i in ids] == ["live", "live"]
    sim.advance("0.5")
    orders = [okx.order(i) for i in ids]
    assert [(o["state"], o["uTime"]) for o in orders] == [("canceled", str(START_MS + 1000))] * 2
    assert sim.stats()["faults"] == {"async_cancel": 1}


def test_a_trader_cancel_while_an_async_cancel_is_pending_wins(sim: Simulator, okx: RawOkx) -> None:
    ord_id = _rest(okx)
    sim.set_faults([{"endpoint": CANCEL, "kind": "async_cancel"}])
    assert _cancel(okx, ordId=ord_id)["sCode"] == "0"
    sim.user_cancel(ord_id=ord_id)
    sim.advance(1)
    order = okx.order(ord_id)
    assert (order["state"], order["uTime"]) == ("canceled", str(START_MS))


def test_without_the_fault_a_cancel_is_done_at_once(okx: RawOkx) -> None:
    ord_id = _rest(okx)
    assert _cancel(okx, ordId=ord_id)["sCode"] == "0"
    assert okx.order(ord_id)["state"] == "canceled"
