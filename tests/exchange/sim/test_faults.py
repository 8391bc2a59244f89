"""Faults on demand: latency, 503, 50004 after applying, dropped connections before and after, 429 bursts."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

PLACE = "POST /api/v5/trade/order"


def _place(okx: RawOkx, cl_ord_id: str) -> requests.Response:
    body = (
        '{"instId":"ETH-USDT-SWAP","tdMode":"isolated","side":"buy","posSide":"long",'
        f'"ordType":"post_only","px":"2990","sz":"1","clOrdId":"{cl_ord_id}"}}'
    )
    return okx.send("POST", "/api/v5/trade/order", body)


def _exists(okx: RawOkx, cl_ord_id: str) -> bool:
    code: str = okx.get(f"/api/v5/trade/order?instId=ETH-USDT-SWAP&clOrdId={cl_ord_id}")["code"]
    return code == "0"


def test_http_503_is_50001_and_nothing_is_applied(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": PLACE, "kind": "http_503"}])
    response = _place(okx, "a1")
    assert response.status_code == 503
    assert response.json()["code"] == "50001"
    assert not _exists(okx, "a1")
    assert _place(okx, "a2").json()["code"] == "0"  # the rule fired once


def test_50004_after_apply_places_the_order_but_answers_a_timeout(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": PLACE, "kind": "code_50004_after_apply"}])
    response = _place(okx, "b1")
    assert response.status_code == 400
    assert response.json() == {"code": "50004", "data": [], "msg": "Endpoint request timeout. "}
    assert _exists(okx, "b1")


def test_drop_before_apply_closes_the_connection_and_places_nothing(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": PLACE, "kind": "drop_before_apply"}])
    with pytest.raises(requests.ConnectionError):
        _place(okx, "c1")
    assert not _exists(okx, "c1")
    assert sim.stats()["requests"][PLACE] == 1


def test_drop_after_apply_places_the_order_and_never_answers(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": PLACE, "kind": "drop_after_apply"}])
    with pytest.raises(requests.ConnectionError):
        _place(okx, "d1")
    assert _exists(okx, "d1")
    assert sim.stats()["requests"][PLACE] == 1


def test_burst_429_for_the_next_n_requests(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": "GET /api/v5/account/balance", "kind": "burst_429", "count": 3}])
    statuses = [okx.send("GET", "/api/v5/account/balance") for _ in range(4)]
    assert [r.status_code for r in statuses] == [429, 429, 429, 200]
    assert statuses[0].json() == {"msg": "Too Many Requests", "code": "50011"}


def test_latency_delays_the_answer(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": "*", "kind": "latency_ms", "ms": 150, "count": 1}])
    started = time.monotonic()
    assert okx.get("/api/v5/public/time")["code"] == "0"
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    okx.get("/api/v5/public/time")
    assert time.monotonic() - started < 0.15


def _outcomes(seed: int) -> list[int]:
    with Simulator(seed=seed, rate_limits=False) as sim:
        okx = RawOkx(sim)
        sim.set_faults(
            {"rules": [{"endpoint": "GET /api/v5/public/time", "kind": "http_503", "probability": 0.5}]}
        )
        return [okx.send("GET", "/api/v5/public/time").status_code for _ in range(30)]


def test_probabilistic_faults_are_seeded() -> None:
    first = _outcomes(5)
    assert first == _outcomes(5)
    assert {200, 503} == set(first)


@pytest.mark.parametrize(
    "spec",
    [
        [{"endpoint": PLACE, "kind": "explode"}],
        [{"endpoint": "/api/v5/trade/order", "kind": "http_503"}],
        [{"endpoint": PLACE, "kind": "latency_ms"}],
        [{"endpoint": PLACE, "kind": "http_503", "count": 0}],
        [{"endpoint": PLACE, "kind": "http_503", "probability": 2}],
        [{"endpoint": PLACE, "kind": "http_503", "colour": "red"}],
    ],
)
def test_malformed_fault_rules_are_refused(sim: Simulator, spec: list[dict[str, Any]]) -> None:
    with pytest.raises(ValueError):
        sim.set_faults(spec)


def test_an_empty_rule_list_clears_the_faults(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": "*", "kind": "http_503", "count": 5}])
    sim.set_faults([])
    assert okx.send("GET", "/api/v5/public/time").status_code == 200
