"""Where OKX is harsh: expTime deadlines, requests that apply late, cancels that land after their
answer (fills in between), and every fault at once under the okx-harsh profile."""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal

import pytest
import requests

from exchange import (
    OkxAmbiguousOutcome,
    OkxApiError,
    OkxError,
    OkxIncorrectOrderState,
    OkxOrderNotFound,
)
from tests.exchange.contract.venue import Venue

pytestmark = pytest.mark.contract

PLACE = "POST /api/v5/trade/order"
CANCEL = "POST /api/v5/trade/cancel-order"
RESTING_PX = Decimal("2900")
PAST_MSG = (
    "The expTime can't be earlier than the current system time. Please adjust the expTime and try again."
)


def _missing(venue: Venue, client_order_id: str) -> bool:
    try:
        venue.client.get_order(venue.symbol, client_order_id=client_order_id)
    except OkxOrderNotFound:
        return True
    return False


@pytest.mark.parametrize("path", ["/api/v5/trade/order", "/api/v5/trade/batch-orders"])
def test_an_exp_time_already_past_is_refused_with_50036_and_nothing_is_placed(
    venue: Venue, path: str
) -> None:
    cl_id = venue.client_order_id("past")
    item = venue.buy_payload(venue.buy_px(Decimal("0.05")), client_order_id=cl_id)
    payload = [item] if "batch" in path else item
    answer = venue.signed_post(path, payload, {"expTime": str(venue.client.now_ms() - 60_000)})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["code"], body["msg"], body.get("data")) == ("50036", PAST_MSG, [])
    assert _missing(venue, cl_id)


def test_a_future_exp_time_is_accepted(venue: Venue) -> None:
    cl_id = venue.client_order_id("future")
    item = venue.buy_payload(venue.buy_px(Decimal("0.05")), client_order_id=cl_id)
    answer = venue.signed_post("/api/v5/trade/order", item, {"expTime": str(venue.client.now_ms() + 30_000)})
    body = answer.json()
    assert (answer.status_code, body["code"], body["data"][0]["sCode"]) == (200, "0", "0")
    order = venue.settle(
        lambda: venue.client.get_order(venue.symbol, client_order_id=cl_id), lambda o: o.state == "live"
    )
    assert order.state == "live"


@pytest.mark.sim_only
@pytest.mark.parametrize("kind", ["late_apply", "late_50004"])
def test_a_place_applied_late_is_unknown_until_it_lands(venue: Venue, kind: str) -> None:
    cl_id = venue.client_order_id(kind.replace("_", ""))
    venue.controls.faults({"endpoint": PLACE, "kind": kind, "ms": 3000})
    with pytest.raises(OkxAmbiguousOutcome):
        venue.place_buy(RESTING_PX, client_order_id=cl_id)
    assert _missing(venue, cl_id)  # not yet known is not never placed
    venue.controls.advance(2)
    assert _missing(venue, cl_id)
    venue.controls.advance(1)
    order = venue.client.get_order(venue.symbol, client_order_id=cl_id)
    assert (order.state, order.px) == ("live", RESTING_PX)


@pytest.mark.sim_only
def test_a_late_place_whose_exp_time_passed_never_lands(venue: Venue) -> None:
    cl_id = venue.client_order_id("expired")
    venue.controls.faults({"endpoint": PLACE, "kind": "late_apply", "ms": 3000})
    item = venue.buy_payload(RESTING_PX, client_order_id=cl_id)
    with pytest.raises(requests.ConnectionError):
        venue.signed_post("/api/v5/trade/order", item, {"expTime": str(venue.client.now_ms() + 1000)})
    venue.controls.advance(10)
    assert _missing(venue, cl_id)
    late = venue.controls.stats()["late"]
    assert (late["queued"], late["applied"], late["refused"]) == (1, 0, 1)


@pytest.mark.sim_only
def test_a_fill_lands_between_an_accepted_cancel_and_the_cancel(venue: Venue) -> None:
    sz = venue.instrument.minSz * 2  # fills one lot per step: the step fills half, then the cancel lands
    ord_id = venue.place_buy(RESTING_PX, sz=sz)
    venue.controls.faults({"endpoint": CANCEL, "kind": "async_cancel"})
    assert venue.client.cancel_order(venue.symbol, ord_id=ord_id).ok
    assert venue.client.get_order(venue.symbol, ord_id).state == "live"
    with pytest.raises(OkxIncorrectOrderState) as again:
        venue.client.cancel_order(venue.symbol, ord_id=ord_id)
    assert again.value.s_code == "51410"

    venue.controls.move_price(RESTING_PX)
    order = venue.final_order(ord_id)
    assert (order.state, order.accFillSz, order.cancelSource) == ("canceled", sz / 2, "1")
    assert [f.fillSz for f in venue.client.list_fills(venue.symbol) if f.ordId == ord_id] == [sz / 2]


@pytest.mark.sim_only
def test_an_order_filled_before_its_accepted_cancel_lands_stays_filled(venue: Venue) -> None:
    ord_id = venue.place_buy(RESTING_PX)
    venue.controls.faults({"endpoint": CANCEL, "kind": "async_cancel"})
    assert venue.client.cancel_order(venue.symbol, ord_id=ord_id).ok
    venue.controls.move_price(RESTING_PX)
    order = venue.final_order(ord_id)
    assert (order.state, order.accFillSz) == ("filled", venue.instrument.minSz)


@pytest.mark.sim_only
def test_under_the_harsh_profile_the_venue_records_agree_with_what_the_client_was_told(venue: Venue) -> None:
    rules = venue.controls.harsh(0.15, seed=11)
    assert len(rules) == 9
    accepted: list[str] = []  # ordIds acknowledged with sCode 0
    refused: list[str] = []  # clOrdIds refused for certain (nothing applied)
    for i in range(20):
        cl_id = venue.client_order_id(f"harsh{i}")
        try:
            accepted.append(venue.place_buy(RESTING_PX, client_order_id=cl_id))
        except OkxAmbiguousOutcome:
            pass  # unknown: may land now, later, or never
        except OkxApiError:
            refused.append(cl_id)
        if accepted and i % 3 == 2:
            with suppress(OkxError):  # whatever a cancel is told, the order's state is the record
                venue.client.cancel_order(venue.symbol, ord_id=accepted[-1])
    venue.controls.faults()
    venue.controls.advance(10)  # every late request falls due
    stats = venue.controls.stats()
    assert stats["late"]["waiting"] == 0
    assert sum(stats["faults"].values()) > 0
    assert len(accepted) >= 3 and refused  # the seed gives each path (deterministic)
    for ord_id in accepted:
        assert venue.client.get_order(venue.symbol, ord_id).ordId == ord_id
    for cl_id in refused:
        assert _missing(venue, cl_id)
