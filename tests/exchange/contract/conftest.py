"""The `venue` fixture: every contract test runs on the simulator, and on OKX demo trading when opted in.

OKX demo mode needs OKX_CONTRACT_DEMO=1 plus OKX_API_KEY / OKX_API_SECRET / OKX_API_PASSPHRASE
(OKX_BASE_URL optional); it is skipped otherwise. Only in that mode, and only for the OKX host, the
suite-wide loopback guard is widened for the test's duration.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.exchange.contract.venue import (
    DEMO_SWITCH,
    OKX_DEMO,
    SIM,
    SIM_NET_CROSS,
    Venue,
    demo_credentials,
    open_venue,
)

_REAL_CONNECT = socket.socket.connect


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sim_only: needs the simulator's controls; skipped on OKX demo")


def _allow_host(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    """Let sockets reach `base_url`'s host (as resolved at connect time); everything else stays guarded."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    guarded = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[1:2] == (port,) and address[0] in _addresses(host, port):
            _REAL_CONNECT(self, address)
        else:
            guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def _addresses(host: str, port: int) -> set[Any]:
    return {info[4][0] for info in socket.getaddrinfo(host, port)}


@pytest.fixture(params=[SIM, SIM_NET_CROSS, OKX_DEMO])
def venue(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Venue]:
    credentials = None
    if request.param == OKX_DEMO:
        credentials = demo_credentials()
        if credentials is None:
            pytest.skip(f"OKX demo mode needs {DEMO_SWITCH}=1 and OKX_API_KEY/_SECRET/_PASSPHRASE")
        if request.node.get_closest_marker("sim_only"):
            pytest.skip("sim_only: OKX demo has no simulator controls")  # decided before any request
        _allow_host(monkeypatch, credentials.base_url)
    with open_venue(request.param, credentials) as opened:
        yield opened
