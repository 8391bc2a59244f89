"""Faults the simulator injects: a read is retried, a POST whose fate is unknown is ambiguous, 429s."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange import (
    OkxAmbiguousOutcome,
    OkxApiError,
    OkxOrderNotFound,
    OkxRateLimited,
    OkxServiceUnavailable,
    render_eth_entry_batch_payloads,
)
from tests.exchange.contract.venue import Venue
from tests.exchange.sim.host_time import freeze_host_time

pytestmark = [pytest.mark.contract, pytest.mark.sim_only]

PLACE = "POST /api/v5/trade/order"
BATCH = "POST /api/v5/trade/batch-orders"
BALANCE = "GET /api/v5/account/balance"
RESTING_PX = Decimal("2900")


def test_a_503_on_a_read_is_retried_until_it_succeeds(venue: Venue) -> None:
    venue.controls.faults({"endpoint": BALANCE, "kind": "http_503", "count": 2})
    before = venue.controls.requests()
    assert venue.client.get_balance().details
    assert venue.controls.sent_since(before) == {BALANCE: 3}


def test_a_read_that_stays_unavailable_gives_up_after_four_tries(venue: Venue) -> None:
    venue.controls.faults({"endpoint": BALANCE, "kind": "http_503", "count": 4})
    before = venue.controls.requests()
    with pytest.raises(OkxServiceUnavailable) as refused:
        venue.client.get_balance()
    assert (refused.value.code, refused.value.http_status) == ("50001", 503)
    assert venue.controls.sent_since(before) == {BALANCE: 4}


@pytest.mark.parametrize(
    ("kind", "applied"),
    [
        ("http_503", False),
        ("code_50004_after_apply", True),
        ("drop_before_apply", False),
        ("drop_after_apply", True),
    ],
)
def test_a_post_with_an_unknown_outcome_is_ambiguous_sent_once_and_resolved_by_client_order_id(
    venue: Venue, kind: str, applied: bool
) -> None:
    cl_id = venue.client_order_id(kind.replace("_", ""))
    venue.controls.faults({"endpoint": PLACE, "kind": kind})
    before = venue.controls.requests()

    with pytest.raises(OkxAmbiguousOutcome) as unknown:
        venue.place_buy(RESTING_PX, client_order_id=cl_id)

    caught: Exception = unknown.value
    assert not isinstance(caught, OkxApiError)  # no `except OkxApiError` can mistake it for a refusal
    assert venue.controls.sent_since(before) == {PLACE: 1}
    if applied:
        order = venue.client.get_order(venue.symbol, client_order_id=cl_id)
        assert (order.clOrdId, order.state, order.px) == (cl_id, "live", RESTING_PX)
    else:
        with pytest.raises(OkxOrderNotFound) as missing:
            venue.client.get_order(venue.symbol, client_order_id=cl_id)
        assert missing.value.code == "51603"


def test_a_batch_answered_50004_after_it_was_applied_is_ambiguous_and_every_rung_exists(
    venue: Venue,
) -> None:
    payloads = render_eth_entry_batch_payloads(
        reference_px=RESTING_PX,
        notional_per_rung=Decimal("50"),
        instrument=venue.instrument,
        signal_ts_ms=venue.client.now_ms(),
        prefix="ct",
        pos_side=venue.pos_side,
    )
    venue.controls.faults({"endpoint": "POST /api/v5/trade/batch-orders", "kind": "code_50004_after_apply"})
    with pytest.raises(OkxAmbiguousOutcome) as unknown:
        venue.client.place_batch_orders(venue.symbol, payloads)
    assert unknown.value.code == "50004"
    for payload in payloads:
        assert venue.client.get_order(venue.symbol, client_order_id=payload["clOrdId"]).state == "live"


CODE_FORMS = pytest.mark.parametrize("numeric", [False, True], ids=["string code", "numeric code"])


@CODE_FORMS
def test_a_429_on_a_post_is_rate_limited_and_not_resent(venue: Venue, numeric: bool) -> None:
    """50011 is refused before anything applies, whether its code comes as a string or a number."""
    venue.controls.quirks(numeric_bare_codes=numeric)
    venue.controls.faults({"endpoint": PLACE, "kind": "burst_429"}, {"endpoint": BATCH, "kind": "burst_429"})
    before = venue.controls.requests()
    with pytest.raises(OkxRateLimited) as refused:
        venue.place_buy(RESTING_PX)
    assert (refused.value.code, refused.value.http_status) == ("50011", 429)
    batch = [venue.buy_payload(RESTING_PX, client_order_id=venue.client_order_id(f"r{i}")) for i in range(2)]
    with pytest.raises(OkxRateLimited) as refused:
        venue.client.place_batch_orders(venue.symbol, batch)
    assert (refused.value.code, refused.value.items) == ("50011", ())
    assert venue.controls.sent_since(before) == {PLACE: 1, BATCH: 1}
    assert venue.client.list_open_orders(venue.symbol) == []


@CODE_FORMS
def test_a_429_burst_on_a_read_is_waited_out(venue: Venue, numeric: bool) -> None:
    venue.controls.quirks(numeric_bare_codes=numeric)
    venue.controls.faults({"endpoint": BALANCE, "kind": "burst_429", "count": 3})
    before = venue.controls.requests()
    assert venue.client.get_balance().details
    assert venue.controls.sent_since(before) == {BALANCE: 4}


def test_spending_the_real_budget_is_rate_limited_until_the_window_slides(
    venue: Venue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """account/config allows 5 requests per 2 s per account; two clients of one account share them.
    The simulator's window would also empty after 2 s of host time: frozen, so a slow machine cannot."""
    freeze_host_time(monkeypatch)
    other = venue.new_client()
    venue.controls.advance(2)  # a fresh window
    for client in (venue.client, other, venue.client, other, venue.client):
        client.get_account_config()
    with pytest.raises(OkxRateLimited) as refused:
        other.get_account_config()
    assert (refused.value.code, refused.value.http_status) == ("50011", 429)

    venue.controls.advance(2)
    assert other.get_account_config().posMode in ("long_short_mode", "net_mode")
