"""Suite-wide guards: no test may reach beyond the loopback interface, and no property test holds an
example to a wall-clock budget (Hypothesis's default 200 ms deadline and its too-slow health check
fail on a busy machine, not on a wrong answer)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_loopback(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return
        try:
            if ipaddress.ip_address(host.split("%")[0]).is_loopback:
                return
        except ValueError:
            pass
        raise RuntimeError(f"test tried to connect beyond loopback: {host!r}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_loopback(address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_loopback(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    yield
