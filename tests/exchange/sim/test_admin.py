"""Admin routes under /sim/ (unsigned, loopback only) and the in-process controls they mirror."""

from __future__ import annotations

from email.message import Message

from exchange.sim import Simulator, admin
from exchange.sim.server import Request
from tests.exchange.sim.okx_http import RawOkx

ETH = "ETH-USDT-SWAP"


def _buy(okx: RawOkx, **fields: str) -> str:
    ack = okx.place(side="buy", posSide="long", sz="1", **fields)["data"][0]
    assert ack["sCode"] == "0", ack
    ord_id: str = ack["ordId"]
    return ord_id


def test_state_shows_price_clock_orders_fills_positions_and_balance(okx: RawOkx) -> None:
    ord_id = _buy(okx, ordType="market")
    state = okx.admin("GET", "/sim/state").json()
    assert (state["px"], state["clock_ms"]) == ("3000", 1767571200000)
    assert [o["ordId"] for o in state["orders"]] == [ord_id]
    assert [f["ordId"] for f in state["fills"]] == [ord_id]
    assert [(p["instId"], p["posSide"], p["pos"]) for p in state["positions"]] == [(ETH, "long", "1")]
    assert state["balance"]["details"][0]["ccy"] == "USDT"


def test_stats_count_api_requests_by_method_and_path_since_reset(okx: RawOkx) -> None:
    okx.get("/api/v5/public/time")
    okx.get("/api/v5/account/positions?instId=ETH-USDT-SWAP")
    okx.get("/api/v5/account/positions")
    okx.admin("GET", "/sim/state")
    stats = okx.admin("GET", "/sim/stats").json()
    assert (stats["requests"], stats["total"]) == (
        {"GET /api/v5/account/positions": 2, "GET /api/v5/public/time": 1},
        3,
    )
    assert okx.admin("POST", "/sim/reset").status_code == 200
    assert okx.admin("GET", "/sim/stats").json() == {
        "requests": {},
        "total": 0,
        "faults": {},
        "faulted": {},
        "late": {"queued": 0, "applied": 0, "refused": 0, "waiting": 0},
        "hung_up": 0,
    }


def test_price_and_advance_routes_move_the_market_and_the_clock(okx: RawOkx) -> None:
    ord_id = _buy(okx, ordType="post_only", px="2990")
    moved = okx.admin("POST", "/sim/price", {"px": "2989.5"}).json()
    assert moved == {"px": "2989.5", "clock_ms": 1767571200000}
    assert okx.order(ord_id)["accFillSz"] == "0.5"
    assert okx.admin("POST", "/sim/advance", {"seconds": 90}).json()["clock_ms"] == 1767571290000
    assert okx.order(ord_id)["state"] == "filled"
    assert okx.admin("POST", "/sim/price", {"px": "2989.555"}).status_code == 400
    assert okx.admin("POST", "/sim/price", {}).status_code == 400
    btc = okx.admin("POST", "/sim/price", {"px": "91000.5", "instId": "BTC-USDT-SWAP"})
    assert btc.status_code == 200
    assert okx.admin("GET", "/sim/state").json()["prices"]["BTC-USDT-SWAP"] == "91000.5"


def test_faults_route_sets_the_rules(okx: RawOkx) -> None:
    rules = {"rules": [{"endpoint": "GET /api/v5/public/time", "kind": "http_503", "count": 1}]}
    stored = okx.admin("POST", "/sim/faults", rules).json()["rules"]
    assert stored[0]["kind"] == "http_503"
    assert okx.send("GET", "/api/v5/public/time").status_code == 503
    assert okx.admin("POST", "/sim/faults", {"rules": [{"kind": "nope"}]}).status_code == 400


def test_faults_route_takes_a_bare_rule_list_and_an_empty_one_clears_the_rules(okx: RawOkx) -> None:
    rule = {"endpoint": "GET /api/v5/public/time", "kind": "http_503", "count": 2}
    assert okx.admin("POST", "/sim/faults", [rule]).json()["rules"][0]["count"] == 2
    assert okx.send("GET", "/api/v5/public/time").status_code == 503
    cleared = okx.admin("POST", "/sim/faults", [])
    assert (cleared.status_code, cleared.json()) == (200, {"rules": []})
    assert okx.send("GET", "/api/v5/public/time").status_code == 200  # the second 503 was cleared
    assert okx.admin("POST", "/sim/price", ["2990"]).status_code == 400  # other routes take objects only


def test_user_cancel_is_a_cancel_by_the_user_in_the_app(okx: RawOkx) -> None:
    ord_id = _buy(okx, ordType="post_only", px="2990", clOrdId="r1")
    canceled = okx.admin("POST", "/sim/user-cancel", {"clOrdId": "r1"}).json()
    assert (canceled["ordId"], canceled["state"], canceled["cancelSource"]) == (ord_id, "canceled", "1")
    assert okx.admin("POST", "/sim/user-cancel", {"ordId": ord_id}).status_code == 404


def test_user_close_closes_the_position_and_its_pending_close_orders(sim: Simulator, okx: RawOkx) -> None:
    _buy(okx, ordType="market")
    take_profit = okx.place(side="sell", posSide="long", ordType="limit", px="3100", sz="0.5")["data"][0][
        "ordId"
    ]
    closing = okx.admin("POST", "/sim/user-close", {"instId": ETH, "posSide": "long"}).json()
    assert (closing["side"], closing["state"], closing["accFillSz"]) == ("sell", "filled", "1")
    assert okx.get("/api/v5/account/positions")["data"] == []
    assert okx.order(take_profit)["cancelSource"] == "17"
    assert okx.admin("POST", "/sim/user-close", {"instId": ETH, "posSide": "long"}).status_code == 404


def test_reset_gives_a_fresh_account_but_time_goes_on(sim: Simulator, okx: RawOkx) -> None:
    _buy(okx, ordType="market")
    sim.advance(10)
    sim.reset()
    state = sim.state()
    assert (state["orders"], state["fills"], state["positions"]) == ([], [], [])
    assert state["balance"]["details"][0]["cashBal"] == "100000"
    assert state["clock_ms"] == 1767571210000


def test_admin_routes_refuse_clients_beyond_loopback(sim: Simulator) -> None:
    request = Request("GET", "/sim/state", Message(), b"", "10.1.2.3")
    assert admin.handle(sim, request).status == 403
    assert admin.handle(sim, Request("GET", "/sim/state", Message(), b"", "::1")).status == 200


def test_unknown_admin_route_is_404(okx: RawOkx) -> None:
    assert okx.admin("GET", "/sim/nothing").status_code == 404


def test_the_simulator_repr_keeps_its_secrets(sim: Simulator) -> None:
    text = repr(sim) + repr(vars(sim))
    assert sim.secret_key not in text
    assert sim.passphrase not in text


def test_quirks_route_shows_and_changes_the_unverified_switches(okx: RawOkx) -> None:
    defaults = okx.admin("GET", "/sim/quirks").json()
    assert defaults["cancel_canceled_code"] == "51400"
    changed = okx.admin("POST", "/sim/quirks", {"cancel_canceled_code": "51401"}).json()
    assert changed == {**defaults, "cancel_canceled_code": "51401"}
    refused = okx.admin("POST", "/sim/quirks", {"cancel_canceled_code": "1"})
    assert refused.status_code == 400 and "must be one of" in refused.json()["error"]
    assert okx.admin("POST", "/sim/quirks", {"nope": True}).status_code == 400
    assert okx.admin("POST", "/sim/reset").status_code == 200
    assert okx.admin("GET", "/sim/quirks").json() == defaults
