"""The harsh faults on the algo endpoints: answers lost after applying, requests applied late, cancels
that take effect after their answer (and lose the race to a trigger)."""

from __future__ import annotations

import pytest
import requests

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

ETH = "ETH-USDT-SWAP"
PLACE_ALGO = "POST /api/v5/trade/order-algo"
CANCEL_ALGOS = "POST /api/v5/trade/cancel-algos"


def _live_algos(sim: Simulator) -> list[str]:
    return [a["algoClOrdId"] for a in sim.state()["algos"] if a["state"] == "live"]


def test_a_place_answered_50004_was_applied(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": PLACE_ALGO, "kind": "code_50004_after_apply"}])
    answer = okx.place_algo(sz="1", slTriggerPx="2900", algoClOrdId="amb1")
    assert answer["code"] == "50004"
    assert _live_algos(sim) == ["amb1"]
    assert okx.place_algo(sz="1", slTriggerPx="2900", algoClOrdId="amb1")["data"][0]["sCode"] == "51065"


def test_a_place_applied_late_is_unknown_until_it_lands(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": PLACE_ALGO, "kind": "late_apply", "ms": 3000}])
    with pytest.raises(requests.ConnectionError):
        okx.place_algo(sz="1", slTriggerPx="2900", algoClOrdId="late1")
    assert okx.get("/api/v5/trade/order-algo?algoClOrdId=late1")["code"] == "51603"
    sim.advance(3)
    assert _live_algos(sim) == ["late1"]
    assert sim.stats()["late"] == {"queued": 1, "applied": 1, "refused": 0, "waiting": 0}


def test_a_cancel_accepted_before_a_trigger_loses_the_race(sim: Simulator, okx: RawOkx) -> None:
    okx.place(side="buy", posSide="long", ordType="market", sz="1")
    algo_id = okx.place_algo(sz="1", slTriggerPx="2900")["data"][0]["algoId"]
    sim.set_faults([{"endpoint": CANCEL_ALGOS, "kind": "async_cancel"}])
    ack = okx.post("/api/v5/trade/cancel-algos", [{"instId": ETH, "algoId": algo_id}])["data"][0]
    assert ack["sCode"] == "0"
    assert okx.algo(algo_id)["state"] == "live"  # accepted, not done
    again = okx.post("/api/v5/trade/cancel-algos", [{"instId": ETH, "algoId": algo_id}])["data"][0]
    assert again["sCode"] == "51410"
    sim.set_price("2899")  # the step fires it before the cancel takes effect
    assert okx.algo(algo_id)["state"] == "effective"
    late = okx.post("/api/v5/trade/cancel-algos", [{"instId": ETH, "algoId": algo_id}])["data"][0]
    assert late["sCode"] == "51416"


def test_an_accepted_cancel_takes_effect_at_the_next_step(sim: Simulator, okx: RawOkx) -> None:
    algo_id = okx.place_algo(sz="1", slTriggerPx="2900")["data"][0]["algoId"]
    sim.set_faults([{"endpoint": CANCEL_ALGOS, "kind": "async_cancel"}])
    okx.post("/api/v5/trade/cancel-algos", [{"instId": ETH, "algoId": algo_id}])
    sim.advance(1)
    assert okx.algo(algo_id)["state"] == "canceled"


def test_the_harsh_profile_reaches_the_algo_endpoints(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults({"profile": "okx-harsh", "probability": 1.0, "seed": 1})
    with pytest.raises(requests.ConnectionError):  # late_apply is drawn first: dropped, applied later
        okx.place_algo(sz="1", slTriggerPx="2900", algoClOrdId="harsh1")
    sim.set_faults([])
    sim.advance(3)
    assert _live_algos(sim) == ["harsh1"]
