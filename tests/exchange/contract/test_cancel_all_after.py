"""Cancel All After through the client's public API: a tag-level timer armed, refreshed and disarmed on
every venue; on the simulator also run out (only its tag's orders canceled) and armed under a fault."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange import OkxAmbiguousOutcome
from tests.exchange.contract.venue import Venue

pytestmark = pytest.mark.contract

CAA = "POST /api/v5/trade/cancel-all-after"


def _place_tagged(venue: Venue, tag: str | None) -> str:
    """A minSz post-only buy 5 % under the market, carrying `tag`; its ordId."""
    ack = venue.client.place_order(
        venue.symbol,
        side="buy",
        ord_type="post_only",
        sz=venue.instrument.minSz,
        px=venue.buy_px(Decimal("0.05")),
        pos_side=venue.pos_side,
        td_mode=venue.td_mode,
        tag=tag,
    )
    assert ack.ok and ack.ordId, ack
    return ack.ordId


def test_a_tag_level_timer_is_armed_refreshed_and_disarmed(venue: Venue) -> None:
    tag = venue.client_order_id("caa")
    try:
        armed = venue.client.cancel_all_after(60, tag)
        assert armed.armed and armed.tag == tag
        assert 59_000 <= armed.triggerTime - armed.ts <= 61_000
        venue.pass_time(1)  # OKX takes one call a second per tag
        refreshed = venue.client.cancel_all_after(90, tag)
        assert refreshed.triggerTime > armed.triggerTime
    finally:
        venue.pass_time(1)
        disarmed = venue.client.cancel_all_after(0, tag)
    assert (disarmed.armed, disarmed.triggerTime, disarmed.tag) == (False, 0, tag)


def test_an_order_placed_with_a_tag_shows_it(venue: Venue) -> None:
    tag = venue.client_order_id("tag")
    order = venue.client.get_order(venue.symbol, _place_tagged(venue, tag))
    assert (order.tag, order.state) == (tag, "live")


@pytest.mark.sim_only
def test_when_the_time_runs_out_only_the_orders_of_its_tag_are_canceled(venue: Venue) -> None:
    tag = venue.client_order_id("caa")
    tagged, other, untagged = (
        _place_tagged(venue, tag),
        _place_tagged(venue, "ctOther"),
        _place_tagged(venue, None),
    )
    venue.client.cancel_all_after(10, tag)
    venue.controls.advance(9)
    assert venue.client.get_order(venue.symbol, tagged).state == "live"
    venue.controls.advance(1)
    canceled = venue.client.get_order(venue.symbol, tagged)
    assert (canceled.state, canceled.cancelSource, canceled.tag) == ("canceled", "20", tag)
    assert [venue.client.get_order(venue.symbol, o).state for o in (other, untagged)] == ["live", "live"]


@pytest.mark.sim_only
def test_an_arm_whose_answer_was_lost_is_settled_by_arming_again(venue: Venue) -> None:
    tag = venue.client_order_id("caa")
    venue.controls.faults({"endpoint": CAA, "kind": "code_50004_after_apply"})
    with pytest.raises(OkxAmbiguousOutcome):
        venue.client.cancel_all_after(30, tag)
    venue.controls.advance(1)
    again = venue.client.cancel_all_after(30, tag)
    assert again.armed and again.tag == tag
    assert venue.controls.sent_since({}).get(CAA) == 2
