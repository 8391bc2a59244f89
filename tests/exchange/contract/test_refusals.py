"""Explicit refusals from the venue, each raised as the error class OKX's code maps to."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange import (
    OkxApiError,
    OkxDuplicateClOrdId,
    OkxInsufficientBalance,
    OkxInvalidSizeOrPrice,
    OkxOrderNotFound,
)
from tests.exchange.contract.venue import Venue

pytestmark = pytest.mark.contract

BELOW = Decimal("0.05")


def _open_ids(venue: Venue) -> set[str]:
    return {o.ordId for o in venue.client.list_open_orders(venue.symbol)}


def _off_lot(venue: Venue) -> Decimal:
    return venue.instrument.minSz + venue.instrument.lotSz / 2


def test_duplicate_client_order_id_of_a_pending_order_is_refused_with_51016(venue: Venue) -> None:
    px, cl_id = venue.buy_px(BELOW), venue.client_order_id("dup")
    first = venue.place_buy(px, client_order_id=cl_id)
    with pytest.raises(OkxDuplicateClOrdId) as refused:
        venue.place_buy(px, client_order_id=cl_id)
    assert (refused.value.code, refused.value.s_code) == ("1", "51016")
    assert _open_ids(venue) == {first}


def test_batch_item_reusing_a_pending_client_order_id_gets_51016_and_the_rest_is_placed(venue: Venue) -> None:
    px, taken, fresh = venue.buy_px(BELOW), venue.client_order_id("taken"), venue.client_order_id("fresh")
    venue.place_buy(px, client_order_id=taken)
    payloads = [venue.buy_payload(px, client_order_id=taken), venue.buy_payload(px, client_order_id=fresh)]
    acks = venue.client.place_batch_orders(venue.symbol, payloads)
    assert [(a.clOrdId, a.sCode) for a in acks] == [(taken, "51016"), (fresh, "0")]


def test_batch_whose_every_item_is_a_duplicate_raises_51016_with_the_acks(venue: Venue) -> None:
    px, taken = venue.buy_px(BELOW), [venue.client_order_id("taken"), venue.client_order_id("taken")]
    for cl_id in taken:
        venue.place_buy(px, client_order_id=cl_id)
    with pytest.raises(OkxDuplicateClOrdId) as refused:
        venue.client.place_batch_orders(
            venue.symbol, [venue.buy_payload(px, client_order_id=c) for c in taken]
        )
    assert refused.value.code == "1"
    assert [(a.clOrdId, a.sCode) for a in refused.value.items] == [(c, "51016") for c in taken]


def test_batch_refused_item_by_item_for_different_reasons_raises_with_every_ack(venue: Venue) -> None:
    px, taken = venue.buy_px(BELOW), venue.client_order_id("taken")
    venue.place_buy(px, client_order_id=taken)
    payloads = [venue.buy_payload(px, client_order_id=taken), venue.buy_payload(px, _off_lot(venue))]
    with pytest.raises(OkxApiError) as refused:
        venue.client.place_batch_orders(venue.symbol, payloads)
    assert type(refused.value) is OkxApiError and refused.value.code == "1"
    assert [a.sCode for a in refused.value.items] == ["51016", "51121"]


@pytest.mark.sim_only
def test_an_order_the_margin_cannot_cover_is_refused_with_51008(venue: Venue) -> None:
    """On OKX a size this large may meet the leverage tier limit (51004) first, hence sim only."""
    with pytest.raises(OkxInsufficientBalance) as refused:
        venue.place_buy(venue.buy_px(BELOW), sz=Decimal("100000"))
    assert refused.value.s_code == "51008"
    assert _open_ids(venue) == set()


def test_size_off_the_lot_is_refused_with_51121(venue: Venue) -> None:
    with pytest.raises(OkxInvalidSizeOrPrice) as refused:
        venue.place_buy(venue.buy_px(BELOW), sz=_off_lot(venue))
    assert (refused.value.code, refused.value.s_code) == ("1", "51121")
    assert _open_ids(venue) == set()


def test_size_below_min_sz_is_refused_as_a_size_error(venue: Venue) -> None:
    """OKX's code for sz < minSz on SWAP is not verified: 51020 or 51120, or 51121 when minSz == lotSz."""
    with pytest.raises(OkxInvalidSizeOrPrice) as refused:
        venue.place_buy(venue.buy_px(BELOW), sz=venue.instrument.minSz / 2)
    assert refused.value.s_code in ("51020", "51120", "51121")
    assert _open_ids(venue) == set()


def test_price_off_the_tick_is_refused_with_a_parameter_error(venue: Venue) -> None:
    """Facts sheet: 51000 "Parameter px error" was seen for too many decimals; 51150 is also possible."""
    with pytest.raises(OkxApiError) as refused:
        venue.place_buy(venue.buy_px(BELOW) + venue.instrument.tickSz / 2)
    assert refused.value.s_code in ("51000", "51150")
    assert _open_ids(venue) == set()


@pytest.mark.parametrize("ids", [{"ord_id": "1234567890123456789"}, {"client_order_id": "ctNeverPlaced"}])
def test_get_order_of_an_unknown_order_is_order_not_found_51603(venue: Venue, ids: dict[str, str]) -> None:
    with pytest.raises(OkxOrderNotFound) as refused:
        venue.client.get_order(venue.symbol, **ids)
    assert (refused.value.code, refused.value.http_status, refused.value.s_code) == ("51603", 200, None)
