"""URLs: what the client, the private stream and a webhook can connect to is accepted; what would fail
only at the first request (a port out of range, an unclosed IPv6 bracket) is refused when the client is
made, with a reason that never repeats the URL."""

from __future__ import annotations

import pytest

from exchange import OkxInvalidRequest
from exchange.urls import url_problem
from tests.exchange.okx_fakes import FakeSession, make_client


@pytest.mark.parametrize(
    "url", ["https://www.okx.com", "http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://[::1]:8080"]
)
def test_a_rest_base_url_is_scheme_host_and_port(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "wss://ws.okx.com:8443/ws/v5/private",
        "ws://127.0.0.1:5/ws/v5/private",
        "wss://h/ws/v5/private?brokerId=1",
    ],
)
def test_an_endpoint_keeps_its_path_and_query(url: str) -> None:
    assert url_problem(url, ("wss", "ws"), endpoint=True) is None
    assert url_problem(url.replace("ws", "http", 1), endpoint=True) is None  # a webhook


@pytest.mark.parametrize(
    ("url", "endpoint", "problem"),
    [
        ("http://127.0.0.1:99999", False, "Port out of range"),
        ("http://127.0.0.1:abc", False, "Port could not be cast to integer"),
        ("http://[::1", False, "Invalid IPv6 URL"),
        ("http://127.0.0.1:0", False, "port 0"),
        ("not-a-url", False, "the scheme must be https or http"),
        ("wss://ws.okx.com:8443/ws/v5/private", True, "the scheme must be https or http"),
        ("http://", False, "no host"),
        ("http://www.okx .com", False, "a space in it"),
        ("https://www.okx.com/api/v5", False, "nothing may follow host[:port]"),
        ("https://www.okx.com?x=1", False, "nothing may follow host[:port]"),
        ("https://h/hook#x", True, "a #fragment in it"),
        ("https://me:pw@www.okx.com", False, "a user or password in it"),
    ],
)
def test_what_cannot_be_connected_to_is_named(url: str, endpoint: bool, problem: str) -> None:
    found = url_problem(url, endpoint=endpoint)
    assert found is not None and problem in found


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://[::1", "https://me:pw@www.okx.com"])
def test_the_client_refuses_it_when_made_never_at_the_first_request(url: str) -> None:
    session = FakeSession()
    with pytest.raises(OkxInvalidRequest) as refused:
        make_client(session, base_url=url)
    assert "pw@" not in str(refused.value) and url not in str(refused.value)
    assert session.sent == []
