"""What the client refuses before any request: the venue never sees it (its request counts stay put)."""

from __future__ import annotations

import string
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange import OkxClient, OkxInvalidRequest, OkxNotArmed
from tests.exchange.contract.venue import Venue

pytestmark = [pytest.mark.contract, pytest.mark.sim_only]

PX = Decimal("2900")
UNKNOWN = "1234567890123456789"
TRADING: dict[str, Callable[[Venue, OkxClient], Any]] = {
    "place_order": lambda v, c: c.place_order(
        v.symbol, side="buy", ord_type="post_only", sz=Decimal("1"), px=PX, pos_side=v.pos_side
    ),
    "place_batch_orders": lambda v, c: c.place_batch_orders(v.symbol, [v.buy_payload(PX)]),
    "cancel_order": lambda v, c: c.cancel_order(v.symbol, ord_id=UNKNOWN),
    "cancel_batch_orders": lambda v, c: c.cancel_batch_orders(v.symbol, [(UNKNOWN, None)]),
    "close_position": lambda v, c: c.close_position(v.symbol, v.pos_side, v.td_mode),
}
ALNUM = string.ascii_letters + string.digits
BAD_CL_ORD_IDS = st.one_of(
    st.text(ALNUM, min_size=33, max_size=64).map(lambda s: "c" + s),
    st.tuples(st.text(ALNUM, max_size=15), st.sampled_from("-_ .:/#"), st.text(ALNUM, max_size=15)).map(
        lambda parts: "c" + "".join(parts)
    ),
)


@pytest.mark.parametrize("method", sorted(TRADING))
def test_an_unarmed_client_refuses_to_trade_before_any_request(venue: Venue, method: str) -> None:
    unarmed = venue.new_client(armed=False)
    before = venue.controls.requests()
    with pytest.raises(OkxNotArmed):
        TRADING[method](venue, unarmed)
    assert venue.controls.sent_since(before) == {}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(client_order_id=BAD_CL_ORD_IDS)
def test_a_client_order_id_okx_refuses_with_51000_is_refused_before_sending(
    venue: Venue, client_order_id: str
) -> None:
    """OKX: at most 32 letters and digits, else 51000 "Parameter clOrdId error"; the client never sends it."""
    before = venue.controls.requests()
    with pytest.raises(OkxInvalidRequest):
        venue.place_buy(PX, client_order_id=client_order_id)
    with pytest.raises(OkxInvalidRequest):
        venue.client.place_batch_orders(
            venue.symbol, [venue.buy_payload(PX, client_order_id=client_order_id)]
        )
    assert venue.controls.sent_since(before) == {}


def test_a_batch_repeating_a_client_order_id_is_refused_before_sending(venue: Venue) -> None:
    """OKX would answer 51016 for the repeat (unique "among pending orders and the current request")."""
    before = venue.controls.requests()
    with pytest.raises(OkxInvalidRequest):
        venue.client.place_batch_orders(venue.symbol, [venue.buy_payload(PX, client_order_id="twin")] * 2)
    assert venue.controls.sent_since(before) == {}
