"""Authentication: each refusal comes back as OkxAuthError with OKX's code, and a stale clock heals itself."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from exchange import OkxAuthError, OkxClient, OkxTimestampError
from tests.exchange.contract.venue import Venue

pytestmark = pytest.mark.contract

WRONG: dict[str, tuple[dict[str, Any], str]] = {
    "secret": ({"secret_key": "0" * 32}, "50113"),
    "passphrase": ({"passphrase": "NotThePassphrase1"}, "50105"),
    "key": ({"api_key": "00000000-0000-0000-0000-000000000000"}, "50111"),
    "missing_demo_header": ({"demo": False}, "50101"),
}
CALLS: dict[str, Callable[[Venue, OkxClient], Any]] = {
    "read": lambda venue, client: client.get_balance(),
    "write": lambda venue, client: client.place_order(
        venue.symbol,
        side="buy",
        ord_type="post_only",
        sz=venue.instrument.minSz,
        px=venue.instrument.tickSz,  # far below any market, should it ever be accepted
        pos_side=venue.pos_side,
        td_mode=venue.td_mode,
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("wrong", sorted(WRONG))
def test_wrong_credentials_are_refused_with_okx_auth_codes(venue: Venue, wrong: str, call: str) -> None:
    overrides, code = WRONG[wrong]
    client = venue.new_client(**overrides)
    with pytest.raises(OkxAuthError) as refused:
        CALLS[call](venue, client)
    assert (refused.value.code, refused.value.http_status) == (code, 401)
    assert not isinstance(refused.value, OkxTimestampError)
    assert venue.client.list_open_orders(venue.symbol) == []


def test_a_client_whose_clock_is_off_resyncs_once_and_succeeds(venue: Venue) -> None:
    client = venue.new_client(clock=lambda: time.time() - 120, synced=False)
    assert client.get_balance().details
    assert abs(client.now_ms() - client.get_server_time()) < 5_000


@pytest.mark.sim_only
def test_after_the_venue_clock_moves_reads_and_writes_resync_by_themselves(venue: Venue) -> None:
    """50102 is answered before anything is applied, so even a POST is safely sent again, once."""
    controls = venue.controls

    controls.advance(120)  # the client's offset is now two minutes stale
    before = controls.requests()
    assert venue.client.get_balance().details
    assert controls.sent_since(before) == {"GET /api/v5/account/balance": 2, "GET /api/v5/public/time": 1}

    controls.advance(120)
    before = controls.requests()
    ord_id = venue.place_buy(Decimal("2900"))
    assert controls.sent_since(before) == {"POST /api/v5/trade/order": 2, "GET /api/v5/public/time": 1}
    assert [o.ordId for o in venue.client.list_open_orders(venue.symbol)] == [ord_id]
