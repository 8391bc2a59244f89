"""Faults on demand: latency, 503, 50004 after applying, dropped connections before and after, 429 bursts."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from exchange.sim import Simulator
from tests.exchange.sim.host_time import HostTime
from tests.exchange.sim.okx_http import RawOkx

PLACE = "POST /api/v5/trade/order"
CEILING_S = 60.0  # generous: only a broken simulator ever waits this long


def _place(okx: RawOkx, client_order_id: str) -> requests.Response:
    body = (
        '{"instId":"ETH-USDT-SWAP","tdMode":"isolated","side":"buy","posSide":"long",'
        f'"ordType":"post_only","px":"2990","sz":"1","clOrdId":"{client_order_id}"}}'
    )
    return okx.send("POST", "/api/v5/trade/order", body)


def _exists(okx: RawOkx, client_order_id: str) -> bool:
    code: str = okx.get(f"/api/v5/trade/order?instId=ETH-USDT-SWAP&clOrdId={client_order_id}")["code"]
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


@pytest.mark.parametrize("numeric", [False, True])
def test_bare_error_codes_are_strings_or_by_quirk_numbers_as_older_answers_have_them(
    sim: Simulator, okx: RawOkx, numeric: bool
) -> None:
    """Only the bodies without `data` (HTTP 429, 401) change; an envelope with `data` keeps a string."""
    sim.set_quirks({"numeric_bare_codes": numeric})
    sim.set_faults([{"endpoint": "GET /api/v5/account/balance", "kind": "burst_429"}])
    busy = okx.send("GET", "/api/v5/account/balance")
    assert (busy.status_code, busy.json()) == (
        429,
        {"msg": "Too Many Requests", "code": 50011 if numeric else "50011"},
    )
    refused = okx.send("GET", "/api/v5/account/balance", secret_key="WRONG")
    assert (refused.status_code, refused.json()) == (
        401,
        {"msg": "Invalid Sign", "code": 50113 if numeric else "50113"},
    )
    malformed = okx.send("POST", "/api/v5/trade/order", '{"instId":"ETH-USDT-SWAP"}')
    assert (malformed.status_code, malformed.json()["code"], malformed.json()["data"]) == (400, "51000", [])


def test_an_unknown_path_is_a_404_with_a_numeric_code_and_an_object_data(okx: RawOkx) -> None:
    for method in ("GET", "POST"):
        answer = okx.send(method, "/api/v5/trade/no-such-endpoint", "{}" if method == "POST" else "")
        assert (answer.status_code, answer.json()) == (404, {"code": 404, "data": {}, "msg": "Not Found"})
    assert okx.send("GET", "/api/v6/anything").json()["code"] == 404


def test_latency_delays_the_answer(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": "*", "kind": "latency_ms", "ms": 150, "count": 1}])
    started = time.monotonic()
    assert okx.get("/api/v5/public/time")["code"] == "0"
    assert time.monotonic() - started >= 0.15  # a lower bound: a busy machine only adds to it
    okx.get("/api/v5/public/time")
    assert sim.stats()["faults"] == {"latency_ms": 1}  # fired once: the second request was not delayed


def test_latency_on_the_sim_clock_holds_the_request_until_the_clock_gets_there(
    sim: Simulator, okx: RawOkx
) -> None:
    """A test on a manual clock decides what happens while the request waits, however slow the host."""
    sim.set_faults([{"endpoint": PLACE, "kind": "latency_ms", "ms": 2000, "clock": "sim"}])
    arrival = sim.now_ms()
    with ThreadPoolExecutor(max_workers=1) as pool:
        placing = pool.submit(_place, RawOkx(sim), "held1")
        give_up = time.monotonic() + CEILING_S
        while sim.stats()["requests"].get(PLACE) != 1:
            assert time.monotonic() < give_up, "the held request never arrived"
            time.sleep(0.01)
        sim.advance(1)
        assert not _exists(okx, "held1") and not placing.done()  # 1 s of its 2 on the clock
        sim.advance(1)
        ack = placing.result(timeout=CEILING_S).json()["data"][0]
    assert ack["sCode"] == "0"
    assert _order_by_client_order_id(sim, "held1")["cTime"] == str(arrival + 2000)  # applied when released


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


# -- late applies ----------------------------------------------------------------------------------

START_MS = 1767571200000  # the manual clock's default start


def _order_by_client_order_id(sim: Simulator, client_order_id: str) -> dict[str, Any]:
    return next(o for o in sim.state()["orders"] if o["clOrdId"] == client_order_id)


def test_late_apply_drops_the_connection_and_places_when_the_sim_clock_gets_there(
    sim: Simulator, okx: RawOkx
) -> None:
    sim.set_faults([{"endpoint": PLACE, "kind": "late_apply", "ms": 3000}])
    with pytest.raises(requests.ConnectionError):
        _place(okx, "la1")
    assert not _exists(okx, "la1")
    sim.advance(2)
    assert not _exists(okx, "la1")
    sim.advance(1)
    assert _exists(okx, "la1")
    assert _order_by_client_order_id(sim, "la1")["cTime"] == str(START_MS + 3000)
    assert sim.stats()["late"] == {"queued": 1, "applied": 1, "refused": 0, "waiting": 0}
    assert sim.stats()["faults"] == {"late_apply": 1}


def test_late_50004_answers_the_timeout_at_once_and_applies_later(sim: Simulator, okx: RawOkx) -> None:
    sim.set_faults([{"endpoint": PLACE, "kind": "late_50004", "ms": 1500}])
    response = _place(okx, "lb1")
    assert (response.status_code, response.json()["code"]) == (400, "50004")
    assert not _exists(okx, "lb1")
    assert sim.stats()["late"]["waiting"] == 1
    sim.advance("1.5")  # due between two whole-second steps: applied at the clock's time
    assert _order_by_client_order_id(sim, "lb1")["cTime"] == str(START_MS + 1500)


def test_late_requests_apply_in_the_order_they_fall_due_stamped_with_their_step(
    sim: Simulator, okx: RawOkx
) -> None:
    sim.set_faults(
        [
            {"endpoint": PLACE, "kind": "late_apply", "ms": 3000},
            {"endpoint": PLACE, "kind": "late_apply", "ms": 1000},
        ]
    )
    for client_order_id in ("first", "second"):
        with pytest.raises(requests.ConnectionError):
            _place(okx, client_order_id)
    sim.advance(5)
    first, second = _order_by_client_order_id(sim, "first"), _order_by_client_order_id(sim, "second")
    assert (first["cTime"], second["cTime"]) == (str(START_MS + 3000), str(START_MS + 1000))
    assert int(second["ordId"]) < int(first["ordId"])


def test_a_wall_clock_late_apply_lands_at_the_next_sync_after_that_much_host_time(
    sim: Simulator, okx: RawOkx, host_time: HostTime
) -> None:
    sim.set_faults([{"endpoint": PLACE, "kind": "late_apply", "ms": 150, "clock": "wall"}])
    with pytest.raises(requests.ConnectionError):
        _place(okx, "lw1")
    host_time.advance(0.149)
    assert not _exists(okx, "lw1")
    host_time.advance(0.001)
    assert _exists(okx, "lw1")  # the clock never moved: only host time passed
    assert _order_by_client_order_id(sim, "lw1")["cTime"] == str(START_MS)


def test_a_late_cancel_lands_later(sim: Simulator, okx: RawOkx) -> None:
    ord_id = _place(okx, "lc1").json()["data"][0]["ordId"]
    sim.set_faults([{"endpoint": "POST /api/v5/trade/cancel-order", "kind": "late_apply", "ms": 2000}])
    with pytest.raises(requests.ConnectionError):
        okx.post("/api/v5/trade/cancel-order", {"instId": "ETH-USDT-SWAP", "ordId": ord_id})
    assert okx.order(ord_id)["state"] == "live"
    sim.advance(2)
    assert (okx.order(ord_id)["state"], okx.order(ord_id)["cancelSource"]) == ("canceled", "1")


def test_a_star_late_rule_leaves_reads_alone_and_a_refused_request_is_answered(
    sim: Simulator, okx: RawOkx
) -> None:
    sim.set_faults([{"endpoint": "*", "kind": "late_apply", "ms": 1000, "count": 2}])
    assert okx.send("GET", "/api/v5/public/time").status_code == 200
    bad = okx.send("POST", "/api/v5/trade/order", '{"instId":"ETH-USDT-SWAP"}', secret_key="WRONG")
    assert (bad.status_code, bad.json()["code"]) == (401, "50113")  # refused at the gateway, not queued
    with pytest.raises(requests.ConnectionError):
        _place(okx, "ls1")
    assert sim.stats()["late"]["queued"] == 1
    assert sim.stats()["faults"] == {"late_apply": 2}


@pytest.mark.parametrize(
    "spec",
    [
        [{"endpoint": "GET /api/v5/trade/order", "kind": "late_apply", "ms": 100}],
        [{"endpoint": PLACE, "kind": "late_50004"}],
        [{"endpoint": PLACE, "kind": "late_apply", "ms": 100, "clock": "moon"}],
        [{"endpoint": PLACE, "kind": "http_503", "clock": "wall"}],
        [{"endpoint": PLACE, "kind": "async_cancel"}],
        {"profile": "okx-gentle", "probability": 0.3, "seed": 1},
        {"profile": "okx-harsh", "probability": 1.5, "seed": 1},
        {"profile": "okx-harsh", "probability": 0.3, "seed": "1"},
        {"profile": "okx-harsh", "seed": 1},
        {"profile": "okx-harsh", "probability": 0.3, "seed": 1, "ms": 5},
    ],
)
def test_malformed_late_rules_and_profiles_are_refused(sim: Simulator, spec: Any) -> None:
    with pytest.raises(ValueError):
        sim.set_faults(spec)


# -- the okx-harsh profile -------------------------------------------------------------------------


def test_the_harsh_profile_route_makes_one_rule_of_every_kind(okx: RawOkx) -> None:
    answer = okx.admin("POST", "/sim/faults", {"profile": "okx-harsh", "probability": 0.3, "seed": 4})
    assert answer.status_code == 200
    rules = answer.json()["rules"]
    assert sorted(r["kind"] for r in rules) == sorted(
        [
            "latency_ms",
            "http_503",
            "code_50004_after_apply",
            "drop_before_apply",
            "drop_after_apply",
            "burst_429",
            "late_apply",
            "late_50004",
            "async_cancel",
        ]
    )
    assert {(r["endpoint"], r["probability"], r["count"]) for r in rules} == {("*", 0.3, None)}
    late = next(r for r in rules if r["kind"] == "late_apply")
    assert (late["clock"], 0 < late["ms"] <= 5000) == ("sim", True)
    refused = okx.admin("POST", "/sim/faults", {"profile": "okx-harsh", "probability": -1, "seed": 4})
    assert refused.status_code == 400
    assert "probability" in refused.json()["error"]


def _harsh_run(sim_seed: int, profile_seed: int) -> tuple[list[str], dict[str, int]]:
    with Simulator(seed=sim_seed, volatility="0", rate_limits=False) as sim:
        okx = RawOkx(sim)
        sim.set_faults({"profile": "okx-harsh", "probability": 0.3, "seed": profile_seed})
        seen = []
        for i in range(16):
            try:
                response = _place(okx, f"h{i}") if i % 2 else okx.send("GET", "/api/v5/public/time")
                seen.append(f"{response.status_code} {response.json().get('code')}")
            except requests.ConnectionError:
                seen.append("dropped")
        return seen, sim.stats()["faults"]


def test_the_harsh_profile_is_reproducible_from_its_seed() -> None:
    first = _harsh_run(1, 5)
    assert first == _harsh_run(2, 5)  # the profile's seed, not the simulator's, decides
    outcomes, fired = first
    assert len(set(outcomes)) >= 3
    assert sum(fired.values()) >= 5
    assert _harsh_run(1, 6) != first


def test_a_late_place_on_a_still_market_lands_at_its_own_step_even_after_a_long_advance() -> None:
    """An idle still market skips its steps, but never past a late request due on the sim clock."""
    with Simulator(seed=7, volatility="0") as sim:
        okx = RawOkx(sim)
        sim.set_faults([{"endpoint": "POST /api/v5/trade/order", "kind": "late_apply", "ms": 3000}])
        start = sim.now_ms()
        payload = {"side": "buy", "posSide": "long", "ordType": "post_only", "px": "2990", "sz": "1"}
        with pytest.raises(requests.ConnectionError):
            okx.place(**payload)
        sim.advance(3600)
        [order] = [o for o in sim.state()["orders"]]
        assert int(order["cTime"]) == start + 3000
