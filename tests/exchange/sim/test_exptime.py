"""The expTime header on place and batch place: malformed, already past on arrival, or passed by the
time a late request is processed (judged in simulator time)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from exchange.sim import Simulator
from exchange.sim.endpoints.call import Call
from exchange.sim.endpoints.trading import place_batch
from tests.exchange.sim.okx_http import RawOkx

PLACE = "POST /api/v5/trade/order"
PAST_MSG = (
    "The expTime can't be earlier than the current system time. Please adjust the expTime and try again."
)


def _item(client_order_id: str) -> dict[str, str]:
    return {
        "instId": "ETH-USDT-SWAP",
        "tdMode": "isolated",
        "side": "buy",
        "posSide": "long",
        "ordType": "post_only",
        "px": "2990",
        "sz": "1",
        "clOrdId": client_order_id,
    }


def _send(okx: RawOkx, payload: Any, exp_time: str, path: str = "/api/v5/trade/order") -> requests.Response:
    return okx.send("POST", path, json.dumps(payload, separators=(",", ":")), expTime=exp_time)


def _client_order_ids(sim: Simulator) -> list[str]:
    return [o["clOrdId"] for o in sim.state()["orders"]]


@pytest.mark.parametrize("value", ["soon", "-1", "1.7e12", "", "1767571200000.5"])
def test_a_malformed_exp_time_is_a_51000_and_nothing_is_placed(
    sim: Simulator, okx: RawOkx, value: str
) -> None:
    response = _send(okx, _item("m1"), value)
    assert response.status_code == 400
    assert response.json() == {"code": "51000", "data": [], "msg": "Parameter expTime error"}
    assert _client_order_ids(sim) == []


@pytest.mark.parametrize("path", ["/api/v5/trade/order", "/api/v5/trade/batch-orders"])
def test_a_deadline_already_past_on_arrival_is_50036_and_nothing_is_placed(
    sim: Simulator, okx: RawOkx, path: str
) -> None:
    payload = [_item("p1"), _item("p2")] if "batch" in path else _item("p1")
    response = _send(okx, payload, str(sim.now_ms() - 1), path)
    assert response.status_code == 200
    assert response.json() == {"code": "50036", "data": [], "msg": PAST_MSG}
    assert _client_order_ids(sim) == []


def test_a_deadline_now_or_later_is_accepted(sim: Simulator, okx: RawOkx) -> None:
    assert _send(okx, _item("n1"), str(sim.now_ms())).json()["code"] == "0"
    assert _send(okx, _item("n2"), str(sim.now_ms() + 5000)).json()["code"] == "0"
    assert _client_order_ids(sim) == ["n1", "n2"]


def test_other_endpoints_ignore_exp_time(sim: Simulator, okx: RawOkx) -> None:
    ord_id = okx.post("/api/v5/trade/order", _item("o1"))["data"][0]["ordId"]
    cancel = okx.send(
        "POST",
        "/api/v5/trade/cancel-order",
        json.dumps({"instId": "ETH-USDT-SWAP", "ordId": ord_id}),
        expTime="1000",
    )
    assert cancel.json()["data"][0]["sCode"] == "0"
    assert okx.get("/api/v5/account/balance", expTime="garbage")["code"] == "0"


@pytest.mark.parametrize(("late_ms", "applied"), [(3000, False), (2000, True), (1000, True)])
def test_a_late_place_is_applied_only_if_its_deadline_has_not_passed_when_it_is_processed(
    sim: Simulator, okx: RawOkx, late_ms: int, applied: bool
) -> None:
    deadline = sim.now_ms() + 2000
    sim.set_faults([{"endpoint": PLACE, "kind": "late_apply", "ms": late_ms}])
    with pytest.raises(requests.ConnectionError):
        _send(okx, _item("x1"), str(deadline))
    sim.advance(5)
    assert (_client_order_ids(sim) == ["x1"]) is applied
    late = sim.stats()["late"]
    assert (late["applied"], late["refused"], late["waiting"]) == (int(applied), int(not applied), 0)
    if applied:
        assert int(sim.state()["orders"][0]["cTime"]) <= deadline


def test_a_batch_processed_after_its_deadline_refuses_every_item_with_50037(sim: Simulator) -> None:
    """The answer of a late request reaches nobody, so this reads the handler's own answer."""
    venue = sim._venue
    with venue.lock:
        now = venue.now_ms()
        answer = place_batch(venue, Call({}, [_item("e1"), _item("e2")], now * 1000, now - 1))
    assert answer.payload["code"] == "1"
    assert [(d["sCode"], d["sMsg"], d["clOrdId"]) for d in answer.payload["data"]] == [
        ("50037", "Order expired.", "e1"),
        ("50037", "Order expired.", "e2"),
    ]
    assert _client_order_ids(sim) == []
