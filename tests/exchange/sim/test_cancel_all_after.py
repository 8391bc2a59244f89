"""Cancel All After (OKX's dead man's switch) on the simulator, spoken to raw and judged from its records."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from exchange.sim import Simulator
from tests.exchange.sim.okx_http import RawOkx

CAA = "/api/v5/trade/cancel-all-after"
START_MS = 1767571200000  # the manual clock's start (a whole second)


def arm(okx: RawOkx, time_out: str, tag: str | None = None) -> dict[str, Any]:
    body = {"timeOut": time_out} if tag is None else {"timeOut": time_out, "tag": tag}
    answer: dict[str, Any] = okx.post(CAA, body)
    return answer


def rest(okx: RawOkx, tag: str = "", px: str = "2900") -> str:
    """A resting buy placed with `tag` (none when ""); its ordId."""
    fields = {"side": "buy", "posSide": "long", "ordType": "limit", "px": px, "sz": "1"}
    placed = okx.place(**fields, **({"tag": tag} if tag else {}))
    assert placed["code"] == "0", placed
    ord_id: str = placed["data"][0]["ordId"]
    return ord_id


def states(sim: Simulator) -> dict[str, tuple[str, str, str]]:
    """Every order by ordId: (tag, state, cancelSource), from the venue's own records."""
    return {o["ordId"]: (o["tag"], o["state"], o["cancelSource"]) for o in sim.state()["orders"]}


def timers(sim: Simulator) -> list[dict[str, str]]:
    armed: list[dict[str, str]] = sim.state()["cancel_all_after"]
    return armed


def test_a_tag_level_timer_cancels_only_its_tag_when_its_time_runs_out(sim: Simulator, okx: RawOkx) -> None:
    mine, other, untagged = rest(okx, "caaMine"), rest(okx, "caaOther"), rest(okx)
    answer = arm(okx, "10", "caaMine")
    assert answer == {
        "code": "0",
        "data": [{"triggerTime": str(START_MS + 10_000), "tag": "caaMine", "ts": str(START_MS)}],
        "msg": "",
    }
    assert timers(sim) == [{"tag": "caaMine", "triggerTime": str(START_MS + 10_000)}]
    sim.advance(9)
    assert {s for _, s, _ in states(sim).values()} == {"live"}
    sim.advance(1)
    assert states(sim) == {
        mine: ("caaMine", "canceled", "20"),
        other: ("caaOther", "live", ""),
        untagged: ("", "live", ""),
    }
    assert okx.order(mine)["uTime"] == str(START_MS + 10_000)
    assert timers(sim) == []  # a timer that ran out is gone


def test_an_account_level_timer_cancels_every_pending_order(sim: Simulator, okx: RawOkx) -> None:
    tagged, untagged = rest(okx, "caaMine"), rest(okx)
    assert arm(okx, "10")["data"][0]["tag"] == ""
    assert timers(sim) == [{"tag": "", "triggerTime": str(START_MS + 10_000)}]
    sim.advance(10)
    assert states(sim) == {tagged: ("caaMine", "canceled", "20"), untagged: ("", "canceled", "20")}


def test_time_out_zero_disarms(sim: Simulator, okx: RawOkx) -> None:
    ord_id = rest(okx, "caaMine")
    arm(okx, "10", "caaMine")
    sim.advance(1)  # one request a second per tag
    assert arm(okx, "0", "caaMine")["data"][0] == {
        "triggerTime": "0",
        "tag": "caaMine",
        "ts": str(START_MS + 1_000),
    }
    assert timers(sim) == []
    sim.advance(30)
    assert states(sim)[ord_id] == ("caaMine", "live", "")


def test_a_refresh_before_it_runs_out_re_arms_it(sim: Simulator, okx: RawOkx) -> None:
    ord_id = rest(okx, "caaMine")
    arm(okx, "10", "caaMine")
    sim.advance(8)
    assert arm(okx, "10", "caaMine")["data"][0]["triggerTime"] == str(START_MS + 18_000)
    sim.advance(8)  # 16 s after the first arm: the refresh holds
    assert states(sim)[ord_id][1] == "live"
    sim.advance(2)
    assert states(sim)[ord_id] == ("caaMine", "canceled", "20")


def test_at_most_20_tag_level_timers_are_live(sim: Simulator, okx: RawOkx) -> None:
    for n in range(20):
        assert arm(okx, "60", f"caa{n}")["code"] == "0"
    refused = okx.send("POST", CAA, json.dumps({"timeOut": "60", "tag": "caa20"}))
    assert refused.status_code == 200
    assert refused.json() == {"code": "51071", "data": [], "msg": refused.json()["msg"]}
    assert arm(okx, "60")["code"] == "0"  # the account level is not a tag-level timer
    sim.advance(1)
    assert arm(okx, "90", "caa0")["code"] == "0"  # re-arming a live one adds none
    assert arm(okx, "0", "caa1")["code"] == "0"
    assert arm(okx, "60", "caa20")["code"] == "0"  # a disarmed one made room
    assert len(timers(sim)) == 21


def test_one_request_a_second_per_tag(sim: Simulator, okx: RawOkx, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limiter's time on a manual clock is the sim clock plus wall time: the wall time is frozen."""
    import time as real_time

    import exchange.sim.clock as clock_module

    frozen = real_time.monotonic()

    class FrozenWall:
        monotonic = staticmethod(lambda: frozen)
        time = staticmethod(real_time.time)

    monkeypatch.setattr(clock_module, "time", FrozenWall)
    assert arm(okx, "10", "caaMine")["code"] == "0"
    again = okx.send("POST", CAA, json.dumps({"timeOut": "10", "tag": "caaMine"}))
    assert (again.status_code, again.json()) == (429, {"msg": "Too Many Requests", "code": "50011"})
    assert arm(okx, "10", "caaOther")["code"] == "0"  # another tag, another budget
    assert arm(okx, "10")["code"] == "0"  # and the account level its own
    sim.advance(1)
    assert arm(okx, "20", "caaMine")["data"][0]["triggerTime"] == str(START_MS + 21_000)


@pytest.mark.parametrize("time_out", ["9", "121", "-1", "10.5", "abc", "", None])
def test_a_time_out_outside_0_and_10_to_120_is_a_parameter_error(okx: RawOkx, time_out: str | None) -> None:
    body = {} if time_out is None else {"timeOut": time_out}
    refused = okx.send("POST", CAA, json.dumps(body))
    assert (refused.status_code, refused.json()) == (
        400,
        {"code": "51000", "data": [], "msg": "Parameter timeOut error"},
    )


@pytest.mark.parametrize("tag", ["caa_mine", "a" * 17])
def test_a_malformed_tag_is_a_parameter_error(sim: Simulator, okx: RawOkx, tag: str) -> None:
    refused = okx.send("POST", CAA, json.dumps({"timeOut": "10", "tag": tag}))
    assert (refused.status_code, refused.json()["code"], refused.json()["msg"]) == (
        400,
        "51000",
        "Parameter tag error",
    )
    assert timers(sim) == []


@pytest.mark.parametrize("cancels_algos", [False, True])
def test_whether_algos_are_cancelled_is_a_quirk(sim: Simulator, okx: RawOkx, cancels_algos: bool) -> None:
    sim.set_quirks({"caa_cancels_algos": cancels_algos})
    okx.place(side="buy", posSide="long", ordType="market", sz="2")
    mine = okx.place_algo(sz="1", slTriggerPx="2800", tag="caaMine")["data"][0]["algoId"]
    untagged = okx.place_algo(sz="1", slTriggerPx="2700")["data"][0]["algoId"]
    order = rest(okx, "caaMine")
    assert arm(okx, "10", "caaMine")["code"] == "0"
    sim.advance(10)
    assert states(sim)[order] == ("caaMine", "canceled", "20")  # the timer ran out
    assert okx.algo(mine)["state"] == ("canceled" if cancels_algos else "live")
    assert okx.algo(untagged)["state"] == "live"  # not of the tag: kept either way


@pytest.mark.parametrize("cancels_algos", [False, True])
def test_an_account_level_timer_and_algos(sim: Simulator, okx: RawOkx, cancels_algos: bool) -> None:
    sim.set_quirks({"caa_cancels_algos": cancels_algos})
    okx.place(side="buy", posSide="long", ordType="market", sz="1")
    algo_id = okx.place_algo(sz="1", slTriggerPx="2800")["data"][0]["algoId"]
    order = rest(okx)
    assert arm(okx, "10")["code"] == "0"
    sim.advance(10)
    assert states(sim)[order] == ("", "canceled", "20")  # the timer ran out
    assert okx.algo(algo_id)["state"] == ("canceled" if cancels_algos else "live")


@pytest.mark.parametrize(("kind", "armed"), [("drop_before_apply", False), ("drop_after_apply", True)])
def test_a_dropped_connection_before_or_after_applying(
    sim: Simulator, okx: RawOkx, kind: str, armed: bool
) -> None:
    sim.set_faults([{"endpoint": f"POST {CAA}", "kind": kind}])
    with pytest.raises(requests.ConnectionError):
        okx.send("POST", CAA, json.dumps({"timeOut": "10", "tag": "caaMine"}))
    assert [t["tag"] for t in timers(sim)] == (["caaMine"] if armed else [])


@pytest.mark.parametrize(
    ("kind", "status", "code", "armed"),
    [
        ("http_503", 503, "50001", False),
        ("burst_429", 429, "50011", False),
        ("code_50004_after_apply", 400, "50004", True),
    ],
)
def test_an_error_answer_before_or_after_applying(
    sim: Simulator, okx: RawOkx, kind: str, status: int, code: str, armed: bool
) -> None:
    sim.set_faults([{"endpoint": f"POST {CAA}", "kind": kind}])
    answer = okx.send("POST", CAA, json.dumps({"timeOut": "10", "tag": "caaMine"}))
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert [t["tag"] for t in timers(sim)] == (["caaMine"] if armed else [])


def test_a_late_arm_applies_when_its_time_comes(sim: Simulator, okx: RawOkx) -> None:
    ord_id = rest(okx, "caaMine")
    sim.set_faults([{"endpoint": f"POST {CAA}", "kind": "late_apply", "ms": 3000}])
    with pytest.raises(requests.ConnectionError):  # no answer
        okx.send("POST", CAA, json.dumps({"timeOut": "10", "tag": "caaMine"}))
    assert timers(sim) == []
    sim.advance(3)
    assert timers(sim) == [{"tag": "caaMine", "triggerTime": str(START_MS + 13_000)}]
    sim.advance(10)
    assert states(sim)[ord_id] == ("caaMine", "canceled", "20")


def test_reset_disarms_every_timer(sim: Simulator, okx: RawOkx) -> None:
    arm(okx, "10", "caaMine")
    sim.reset()
    assert timers(sim) == []
