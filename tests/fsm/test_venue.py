"""The venue builder's WebSocket streams: which URL each channel is read on (nothing is connected here)."""

from __future__ import annotations

import pytest

from exchange.ws import ALGO_ORDERS, ORDERS
from fsm.engine.venue import ENV_WS_URL, UnpairedWsUrl, Venue
from fsm.errors import ExitStatus


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("OKX_API_KEY", "k"), ("OKX_API_SECRET", "s"), ("OKX_API_PASSPHRASE", "p")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(ENV_WS_URL, raising=False)


def _now() -> int:
    return 0


@pytest.mark.parametrize(
    ("live", "private", "business"),
    [
        (True, "wss://ws.okx.com:8443/ws/v5/private", "wss://ws.okx.com:8443/ws/v5/business"),
        (False, "wss://wspap.okx.com:8443/ws/v5/private", "wss://wspap.okx.com:8443/ws/v5/business"),
    ],
)
def test_okx_hosts_pair_the_business_url_with_the_private_one(
    live: bool, private: str, business: str
) -> None:
    venue = Venue.from_options(None, live=live)
    assert venue.private_stream(None, _now, _now, ORDERS).url == private
    assert venue.private_stream(None, _now, _now, ALGO_ORDERS).url == business


def test_the_environment_private_url_gives_the_business_one_with_its_query(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(ENV_WS_URL, "wss://wspap.okx.com:8443/ws/v5/private?brokerId=9999")
    stream = Venue.from_options(None, live=False).private_stream(None, _now, _now, ALGO_ORDERS)
    assert stream.url == "wss://wspap.okx.com:8443/ws/v5/business?brokerId=9999"


def test_ws_url_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_WS_URL, "wss://elsewhere.example:8443/ws/v5/private")
    venue = Venue.from_options(None, live=False)
    stream = venue.private_stream("ws://127.0.0.1:8123/ws/v5/private", _now, _now, ALGO_ORDERS)
    assert stream.url == "ws://127.0.0.1:8123/ws/v5/business"


def test_a_url_off_the_private_path_serves_orders_but_has_no_business_pair() -> None:
    venue = Venue.from_options(None, live=False)
    assert (
        venue.private_stream("wss://proxy.example/okx", _now, _now, ORDERS).url == "wss://proxy.example/okx"
    )
    with pytest.raises(
        UnpairedWsUrl, match=r"--ws-url / OKX_WS_URL: .*does not end in /ws/v5/private"
    ) as bad:
        venue.private_stream("wss://proxy.example/okx", _now, _now, ALGO_ORDERS)
    assert bad.value.exit_code == ExitStatus.USAGE
