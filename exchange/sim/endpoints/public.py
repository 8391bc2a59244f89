"""The public endpoints: server time, instruments, candles, the ticker and the price limit."""

from __future__ import annotations

from collections.abc import Mapping

from .. import params, pricelimit
from ..envelopes import ok
from ..errors import bad_param
from ..instruments import INSTRUMENTS
from ..market import BAR_MINUTES, PricePath
from ..server import Response
from ..venue import Venue
from .call import INST_TYPES, Call


def public_time(venue: Venue, call: Call) -> Response:
    return ok([{"ts": str(venue.now_ms())}])


def instruments(venue: Venue, call: Call) -> Response:
    if params.one_of(call.query, "instType", INST_TYPES) != "SWAP":
        return ok([])
    inst_id = params.text(call.query, "instId")
    family = params.text(call.query, "instFamily") or params.text(call.query, "uly")
    return ok(
        [
            inst.to_okx()
            for inst in INSTRUMENTS.values()
            if inst_id in (None, inst.inst_id) and family in (None, inst.inst_family)
        ]
    )


def _candles(venue: Venue, call: Call, max_limit: int, history: bool) -> Response:
    path = _path(venue, call.query)
    bar = params.text(call.query, "bar") or "1m"
    if bar not in BAR_MINUTES:
        raise bad_param("bar")
    rows = path.candles(
        bar,
        venue.now_ms(),
        params.integer(call.query, "after"),
        params.integer(call.query, "before"),
        params.limit(call.query, 100, max_limit),
        history,
    )
    return ok(rows)


def candles(venue: Venue, call: Call) -> Response:
    return _candles(venue, call, 300, history=False)


def history_candles(venue: Venue, call: Call) -> Response:
    """Older bars than /market/candles reaches (ccxt's fetch_ohlcv asks here for a `since` in the past)."""
    return _candles(venue, call, 100, history=True)


def ticker(venue: Venue, call: Call) -> Response:
    return ok([_path(venue, call.query).ticker(venue.now_ms())])


def price_limit(venue: Venue, call: Call) -> Response:
    path = _path(venue, call.query)
    return ok([pricelimit.to_okx(path.inst, path.px, venue.now_ms())])


def _path(venue: Venue, query: Mapping[str, str]) -> PricePath:
    inst = params.instrument_top_level(params.required(query, "instId"))
    return venue.path(inst.inst_id)
