"""The stop that lives on OKX, through the client's public API: a reduce-only market TP/SL of the size
held, placed, read by both ids, amended, cancelled and refused; on the simulator also fired, and under
the harsh faults, judged from the venue's own records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange import (
    OkxAlgoOrder,
    OkxAmbiguousOutcome,
    OkxDuplicateClOrdId,
    OkxIncorrectOrderState,
    OkxOrderNotFound,
    OkxStopPriceRefused,
    render_stop_payload,
    stop_trigger_price,
)
from exchange.records import MARKET_PX
from tests.exchange.contract.venue import Venue

pytestmark = pytest.mark.contract

PLACE_ALGO = "POST /api/v5/trade/order-algo"
CANCEL_ALGOS = "POST /api/v5/trade/cancel-algos"


def _held(venue: Venue, lots: int = 1) -> Decimal:
    """Buy `lots` x minSz at market; the size held."""
    sz = venue.instrument.minSz * lots
    venue.place_market_buy(sz)
    return sz


def _stop_payload(
    venue: Venue, sz: Decimal, *, below: str = "0.05", px_type: str = "last", name: str = "stop"
) -> dict[str, object]:
    """A long's market stop `below` (a fraction) under the market, for `sz` contracts."""
    return render_stop_payload(
        instrument=venue.instrument,
        side="sell",
        sz=sz,
        sl_trigger_px=venue.market_px() * (1 - Decimal(below)),
        sl_trigger_px_type=px_type,
        algo_client_order_id=venue.client_order_id(name),
        pos_side=venue.pos_side,
        td_mode=venue.td_mode,
    )


def _placed(venue: Venue, payload: dict[str, object]) -> str:
    ack = venue.client.place_algo_order(payload)
    assert ack.ok and ack.algoId, ack
    return ack.algoId


def _final(venue: Venue, algo_id: str) -> OkxAlgoOrder:
    """The algo once it has left the pending states (or as last seen)."""
    return venue.settle(lambda: venue.client.get_algo_order(algo_id=algo_id), lambda a: not a.pending)


def test_a_stop_is_placed_listed_and_read_by_both_ids(venue: Venue) -> None:
    sz = _held(venue)
    payload = _stop_payload(venue, sz)
    algo_id = _placed(venue, payload)
    by_id = venue.client.get_algo_order(algo_id=algo_id)
    by_client_id = venue.client.get_algo_order(algo_client_order_id=str(payload["algoClOrdId"]))
    assert by_id == by_client_id
    assert (by_id.state, by_id.ordType, by_id.side, by_id.posSide, by_id.tdMode) == (
        "live",
        "conditional",
        "sell",
        venue.pos_side,
        venue.td_mode,
    )
    assert (by_id.sz, by_id.slTriggerPx, by_id.slOrdPx, by_id.slTriggerPxType) == (
        sz,
        Decimal(str(payload["slTriggerPx"])),
        MARKET_PX,
        "last",
    )
    assert by_id.reduceOnly and by_id.ordIdList == ()
    assert algo_id in {a.algoId for a in venue.client.list_pending_algos(venue.symbol)}


def test_a_cancelled_stop_ends_canceled_and_a_second_cancel_is_refused(venue: Venue) -> None:
    algo_id = _placed(venue, _stop_payload(venue, _held(venue)))
    (ack,) = venue.client.cancel_algo_orders(venue.symbol, [(algo_id, None)])
    assert ack.ok and ack.algoId == algo_id
    assert _final(venue, algo_id).state == "canceled"
    history = venue.client.list_algo_history(venue.symbol, state="canceled")
    assert algo_id in {a.algoId for a in history}
    assert algo_id not in {a.algoId for a in venue.client.list_pending_algos(venue.symbol)}
    with pytest.raises(OkxIncorrectOrderState) as refused:
        venue.client.cancel_algo_orders(venue.symbol, [(algo_id, None)])
    assert refused.value.s_code == "51400"


def test_an_amend_moves_the_trigger_and_the_size(venue: Venue) -> None:
    sz = _held(venue, lots=2)
    payload = _stop_payload(venue, venue.instrument.minSz)
    algo_id = _placed(venue, payload)
    new_px = stop_trigger_price(venue.instrument, "sell", venue.market_px() * Decimal("0.94"))
    ack = venue.client.amend_algo_order(
        venue.symbol, algo_id=algo_id, new_sz=sz, new_sl_trigger_px=new_px, req_id=venue.client_order_id("am")
    )
    assert ack.ok and ack.algoId == algo_id
    algo = venue.settle(lambda: venue.client.get_algo_order(algo_id=algo_id), lambda a: a.sz == sz)
    assert (algo.sz, algo.slTriggerPx, algo.state) == (sz, new_px, "live")


def test_a_second_stop_with_the_same_algo_client_id_is_51065(venue: Venue) -> None:
    sz = _held(venue)
    payload = _stop_payload(venue, sz)
    first = _placed(venue, payload)
    with pytest.raises(OkxDuplicateClOrdId) as refused:
        venue.client.place_algo_order(
            {**payload, "slTriggerPx": str(Decimal(str(payload["slTriggerPx"])) - 1)}
        )
    assert refused.value.s_code == "51065"
    assert venue.client.get_algo_order(algo_client_order_id=str(payload["algoClOrdId"])).algoId == first


@pytest.mark.parametrize(("px_type", "code"), [("last", "51280"), ("mark", "51304"), ("index", "51308")])
def test_a_stop_above_the_market_is_refused_for_the_price_it_watches(
    venue: Venue, px_type: str, code: str
) -> None:
    payload = _stop_payload(venue, _held(venue), below="-0.05", px_type=px_type)
    with pytest.raises(OkxStopPriceRefused) as refused:
        venue.client.place_algo_order(payload)
    assert refused.value.s_code == code
    with pytest.raises(OkxOrderNotFound):
        venue.client.get_algo_order(algo_client_order_id=str(payload["algoClOrdId"]))


def test_an_unknown_algo_is_not_found(venue: Venue) -> None:
    with pytest.raises(OkxOrderNotFound):
        venue.client.get_algo_order(algo_id="1")


@pytest.mark.sim_only
def test_a_stop_fires_and_is_settled_from_the_venues_evidence(venue: Venue) -> None:
    sz = _held(venue)
    algo_id = _placed(venue, _stop_payload(venue, sz, below="0.01"))
    venue.controls.move_price(venue.market_px() * Decimal("0.98"))
    algo = venue.client.get_algo_order(algo_id=algo_id)
    assert (algo.state, algo.actualSz, algo.actualSide) == ("effective", sz, "sl")
    (child_id,) = algo.ordIdList
    child = venue.client.get_order(venue.symbol, ord_id=child_id)
    assert (child.algoId, child.state, child.side, child.accFillSz, child.reduceOnly) == (
        algo_id,
        "filled",
        "sell",
        sz,
        True,
    )
    fills = [f for f in venue.client.list_fills_since(venue.symbol, None) if f.ordId == child_id]
    assert sum(f.fillSz for f in fills) == sz
    assert [p for p in venue.client.get_positions(venue.symbol) if p.pos != 0] == []


@pytest.mark.sim_only
def test_a_stop_with_nothing_left_to_reduce_ends_order_failed(venue: Venue) -> None:
    algo_id = _placed(venue, _stop_payload(venue, _held(venue), below="0.01"))
    venue.controls.user_close(venue.pos_side)
    venue.controls.move_price(venue.market_px() * Decimal("0.98"))
    algo = venue.client.get_algo_order(algo_id=algo_id)
    assert (algo.state, algo.failCode, algo.ordIdList) == ("order_failed", "51169", ())


@pytest.mark.sim_only
@pytest.mark.parametrize("kind", ["code_50004_after_apply", "drop_after_apply"])
def test_a_stop_whose_answer_is_lost_is_found_by_its_client_id_and_adopted(venue: Venue, kind: str) -> None:
    payload = _stop_payload(venue, _held(venue))
    venue.controls.faults({"endpoint": PLACE_ALGO, "kind": kind})
    with pytest.raises(OkxAmbiguousOutcome):
        venue.client.place_algo_order(payload)
    found = venue.client.get_algo_order(algo_client_order_id=str(payload["algoClOrdId"]))
    assert found.state == "live"
    with pytest.raises(OkxDuplicateClOrdId):
        venue.client.place_algo_order(payload)


@pytest.mark.sim_only
def test_a_stop_applied_late_is_unknown_until_it_lands(venue: Venue) -> None:
    payload = _stop_payload(venue, _held(venue))
    venue.controls.faults({"endpoint": PLACE_ALGO, "kind": "late_apply", "ms": 3000})
    with pytest.raises(OkxAmbiguousOutcome):
        venue.client.place_algo_order(payload)
    with pytest.raises(OkxOrderNotFound):  # not yet known is not never placed
        venue.client.get_algo_order(algo_client_order_id=str(payload["algoClOrdId"]))
    venue.controls.advance(3)
    assert venue.client.get_algo_order(algo_client_order_id=str(payload["algoClOrdId"])).state == "live"
    assert venue.controls.stats()["late"]["applied"] == 1


@pytest.mark.sim_only
def test_a_cancel_accepted_before_the_stop_fires_loses_the_race(venue: Venue) -> None:
    sz = _held(venue)
    algo_id = _placed(venue, _stop_payload(venue, sz, below="0.01"))
    venue.controls.faults({"endpoint": CANCEL_ALGOS, "kind": "async_cancel"})
    (ack,) = venue.client.cancel_algo_orders(venue.symbol, [(algo_id, None)])
    assert ack.ok  # accepted, not done
    venue.controls.move_price(venue.market_px() * Decimal("0.98"))
    assert venue.client.get_algo_order(algo_id=algo_id).state == "effective"
    with pytest.raises(OkxIncorrectOrderState) as refused:
        venue.client.cancel_algo_orders(venue.symbol, [(algo_id, None)])
    assert refused.value.s_code == "51416"
