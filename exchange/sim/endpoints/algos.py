"""The algo-order endpoints: place, amend and cancel (up to 10) algos, list the pending ones and the
history, read one. Only the TP/SL types (`conditional`, `oco`) are modelled: reads for the other types
answer with none.

Guesses where OKX's docs are silent, each in one place: a required parameter left out is 50014, "state or
algoId" both left out 50015 (the docs' texts for those codes); more than 10 cancels is 51406 with the
algo limit in its text (as for cancel-batch-orders); an amend of an algo that is not live is 51503 (as for
orders); an unknown algo read by id is the quirk `algo_unknown_code`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import algo_params, params
from ..algos import ENDED_STATES, ORD_TYPES, OTHER_ORD_TYPES, Algo
from ..envelopes import items, ok
from ..errors import ApiError, ItemError, bad_param
from ..server import Response
from ..venue import Venue
from .call import INST_TYPES, Call, objects, split
from .orders import page

MAX_CANCEL = 10


def _out_us(venue: Venue) -> int:
    return venue.now_ms() * 1000


def _result(item: Mapping[str, Any], algo: Algo | None, exc: ItemError | None) -> dict[str, Any]:
    """The fields every algo answer's item has: the algo's ids (as asked, when refused), sCode, sMsg."""
    return {
        "algoClOrdId": algo.client_id if algo else params.text(item, "algoClOrdId") or "",
        "algoId": algo.algo_id if algo else params.text(item, "algoId") or "",
        "sCode": "0" if exc is None else exc.code,
        "sMsg": "" if exc is None else exc.msg,
    }


def _ack(item: Mapping[str, Any], algo: Algo | None, exc: ItemError | None) -> dict[str, Any]:
    """A place or cancel item (clOrdId and tag are deprecated there: OKX still sends them)."""
    tag = algo.tag if algo else params.text(item, "tag") or ""
    return {**_result(item, algo, exc), "clOrdId": "", "tag": tag}


def place_algo(venue: Venue, call: Call) -> Response:
    body = objects(call.body, many=False)[0]
    algo_params.place_shape(body)
    try:
        algo = venue.place_algo(algo_params.place_algo(body, venue.quirks))
    except ItemError as exc:
        return items([_ack(body, None, exc)], call.in_time_us, _out_us(venue))
    return items([_ack(body, algo, None)], call.in_time_us, _out_us(venue))


def amend_algos(venue: Venue, call: Call) -> Response:
    body = objects(call.body, many=False)[0]
    params.required(body, "instId")
    req_id = {"reqId": params.text(body, "reqId") or ""}
    try:
        algo = venue.amend_algo(algo_params.amend_algo(body, venue.quirks))
    except ItemError as exc:
        return items([{**_result(body, None, exc), **req_id}], call.in_time_us, _out_us(venue))
    return items([{**_result(body, algo, None), **req_id}], call.in_time_us, _out_us(venue))


def cancel_algos(venue: Venue, call: Call) -> Response:
    rows = objects(call.body, many=True)
    if len(rows) > MAX_CANCEL:
        raise ApiError("51406", f"Canceled - order count exceeds the limit {MAX_CANCEL}")
    if not rows:
        raise bad_param("data")
    for row in rows:
        params.required(row, "instId")
    acks = []
    for row in rows:
        try:
            algo = venue.cancel_algo(algo_params.algo_ref(row), call.async_cancel)
        except ItemError as exc:
            acks.append(_ack(row, None, exc))
        else:
            acks.append(_ack(row, algo, None))
    return items(acks, call.in_time_us, _out_us(venue))


def _listed(query: Mapping[str, str], rows: list[Algo]) -> Response:
    """Algos of the asked ordType(s) (required: 50014), instType, instId and algoId, paged by algoId."""
    if params.text(query, "ordType") is None:
        raise ApiError("50014", "Parameter ordType can not be empty.")
    ord_types = split(query, "ordType") or set()
    if not ord_types <= set(ORD_TYPES + OTHER_ORD_TYPES):
        raise bad_param("ordType")
    inst_type = params.text(query, "instType")
    if inst_type is not None and inst_type not in INST_TYPES:
        raise bad_param("instType")
    inst_id, algo_id = params.text(query, "instId"), params.text(query, "algoId")

    def accept(a: Algo) -> bool:
        return (
            a.ord_type in ord_types
            and inst_type in (None, "SWAP")
            and inst_id in (None, a.inst.inst_id)
            and algo_id in (None, a.algo_id)
        )

    chosen = page([a for a in rows if accept(a)], lambda a: int(a.algo_id), query)
    return ok([a.to_okx() for a in chosen])


def orders_algo_pending(venue: Venue, call: Call) -> Response:
    return _listed(call.query, venue.pending_algos())


def orders_algo_history(venue: Venue, call: Call) -> Response:
    """The ended algos of the last 3 months; `state` or `algoId` is required (50015)."""
    state = params.text(call.query, "state")
    if state is None and params.text(call.query, "algoId") is None:
        raise ApiError("50015", "Either parameter state or algoId is required")
    if state not in (None, *ENDED_STATES):
        raise bad_param("state")
    return _listed(call.query, [a for a in venue.algo_history() if state in (None, a.state)])


def get_algo(venue: Venue, call: Call) -> Response:
    algo_id, client_id = params.text(call.query, "algoId"), params.text(call.query, "algoClOrdId")
    if algo_id is None and client_id is None:
        raise ApiError("50015", "Either parameter algoId or algoClOrdId is required")
    algo = venue.find_algo(algo_id, client_id)
    if algo is None:
        raise ApiError(venue.quirks.algo_unknown_code)
    return ok([algo.to_okx()])
