"""The client's Cancel All After: a tag required, the body, the typed answer, the three POST outcomes and
OKX's one-a-second budget per tag."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from exchange import (
    OkxAmbiguousOutcome,
    OkxApiError,
    OkxInvalidRequest,
    OkxNotArmed,
    OkxRateLimited,
)
from tests.exchange.okx_fakes import FakeClock, FakeSession, Reply, make_client, okx, raw
from tests.exchange.test_trading import AMBIGUOUS

PATH = "/api/v5/trade/cancel-all-after"
TS = 1_700_000_000_000


def _answer(tag: str, trigger: int) -> Reply:
    return okx([{"triggerTime": str(trigger), "tag": tag, "ts": str(TS)}])


def test_a_tag_is_armed_with_its_time_out_and_answered_as_a_typed_record() -> None:
    session = FakeSession(_answer("caaLadder1", TS + 10_000))
    answer = make_client(session, armed=True).cancel_all_after(10, "caaLadder1")
    assert session.paths() == [PATH]
    assert json.loads(session.body()) == {"timeOut": "10", "tag": "caaLadder1"}
    assert (answer.triggerTime, answer.tag, answer.ts) == (TS + 10_000, "caaLadder1", TS)
    assert answer.armed


def test_time_out_zero_disarms() -> None:
    session = FakeSession(_answer("caaLadder1", 0))
    answer = make_client(session, armed=True).cancel_all_after(0, "caaLadder1")
    assert json.loads(session.body()) == {"timeOut": "0", "tag": "caaLadder1"}
    assert not answer.armed and answer.triggerTime == 0


def test_no_tag_is_refused_before_any_request_unless_the_account_level_is_asked_for() -> None:
    session = FakeSession(_answer("", TS + 60_000))
    client = make_client(session, armed=True)
    with pytest.raises(OkxInvalidRequest, match="needs a tag"):
        client.cancel_all_after(60, None)
    assert session.sent == []
    with pytest.raises(OkxInvalidRequest, match="needs a tag"):
        client.cancel_all_after(60, "caaLadder1", account_level=True)
    assert session.sent == []
    answer = client.cancel_all_after(60, None, account_level=True)
    assert json.loads(session.body()) == {"timeOut": "60"}
    assert answer.tag is None and answer.armed


@pytest.mark.parametrize(
    ("timeout_s", "tag"),
    [(9, "caa1"), (121, "caa1"), (-1, "caa1"), (True, "caa1"), (10.0, "caa1"), (10, "caa_1"), (10, "a" * 17)],
)
def test_what_okx_would_refuse_is_refused_before_any_request(timeout_s: Any, tag: str) -> None:
    session = FakeSession()
    with pytest.raises(OkxInvalidRequest):
        make_client(session, armed=True).cancel_all_after(timeout_s, tag)
    assert session.sent == []


def test_an_unarmed_client_sends_nothing() -> None:
    session = FakeSession()
    with pytest.raises(OkxNotArmed):
        make_client(session, armed=False).cancel_all_after(10, "caa1")
    assert session.sent == []


def test_a_21st_tag_is_refused_with_its_code() -> None:
    msg = "The maximum number of tag-level cancel all after timers has been reached."
    session = FakeSession(okx([], code="51071", msg=msg))
    with pytest.raises(OkxApiError) as refused:
        make_client(session, armed=True).cancel_all_after(10, "caa21")
    assert (refused.value.code, refused.value.http_status) == ("51071", 200)


def test_a_rate_limited_call_is_refused_not_ambiguous_and_not_resent() -> None:
    session = FakeSession(raw(429, {"msg": "Too Many Requests", "code": "50011"}))
    with pytest.raises(OkxRateLimited):
        make_client(session, armed=True).cancel_all_after(10, "caa1")
    assert len(session.sent) == 1


@pytest.mark.parametrize(
    "answer",
    [*AMBIGUOUS.values(), _answer("caaOther", TS + 10_000), okx([{"tag": "caa1", "ts": str(TS)}])],
    ids=[*AMBIGUOUS.keys(), "another tag answered", "no triggerTime"],
)
def test_an_answer_that_does_not_say_is_ambiguous(answer: Reply | BaseException) -> None:
    session = FakeSession(answer)
    with pytest.raises(OkxAmbiguousOutcome):
        make_client(session, armed=True).cancel_all_after(10, "caa1")
    assert len(session.sent) == 1


def _echo(request: requests.PreparedRequest) -> Reply:
    """Arm whatever tag was asked for."""
    assert isinstance(request.body, bytes)
    body = json.loads(request.body)
    return _answer(body.get("tag", ""), TS + int(body["timeOut"]) * 1000)


def test_the_client_waits_a_second_between_two_calls_of_one_tag_only() -> None:
    clock = FakeClock()
    client = make_client(FakeSession(always=_echo), armed=True, clock=clock)
    client.cancel_all_after(10, "caa1")
    client.cancel_all_after(10, "caa2")  # another tag: its own budget
    client.cancel_all_after(10, None, account_level=True)  # the account level too
    assert clock.slept == []
    assert client.cancel_all_after(20, "caa1").triggerTime == TS + 20_000
    assert clock.slept == [1.0]
