"""OkxClient's algo-order endpoints: the stop that lives on OKX.

Place, amend and cancel are trading methods (OkxNotArmed before any I/O unless armed, sent once, three
outcomes as for orders: an accepted ack, an OkxApiError for an explicit refusal, OkxAmbiguousOutcome when
the answer does not say; an algo whose place was ambiguous is found by its algoClOrdId, and 51065 on a
place means it exists). The reads never change anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from exchange.errors import OkxInvalidPayload, OkxInvalidRequest
from exchange.paths import AMEND_ALGOS, CANCEL_ALGOS, ORDER_ALGO, ORDERS_ALGO_HISTORY, ORDERS_ALGO_PENDING
from exchange.payloads import ALGO_CANCEL_MAX, amend_algo_body, cancel_algo_item, check_client_order_id
from exchange.reads import check_limit, inst_type_of
from exchange.records import OkxAlgoOrder, OkxOrderAck, parse_algo_order
from exchange.trading import TradingEndpoints
from exchange.transport import PAGE_LIMIT
from exchange.wire import first_object, objects

STOP_ORD_TYPES = "conditional,oco"  # the TP/SL algo types, which OKX lets one query ask for together
ALGO_HISTORY_STATES = frozenset({"effective", "canceled", "order_failed"})


class AlgoEndpoints(TradingEndpoints):
    """The algo-order endpoints of OkxClient, with typed answers."""

    def place_algo_order(self, payload: Mapping[str, Any]) -> OkxOrderAck:
        """Send one rendered algo body (exchange.payloads.render_stop_payload); the accepted ack carries
        algoId and algoClOrdId. A refusal raises its OkxApiError (OkxDuplicateClOrdId for 51065: the algo
        exists, adopt it; OkxStopPriceRefused when the market is already past the trigger)."""
        self._require_armed()
        body = dict(payload)
        symbol = body.get("instId")
        if not isinstance(symbol, str) or not all(isinstance(v, str | bool) for v in body.values()):
            raise OkxInvalidRequest(f"an algo payload needs an instId and string or boolean values: {body}")
        if "algoClOrdId" in body:
            check_client_order_id(body["algoClOrdId"])
        return self._acks(self._write(ORDER_ALGO, body, key=symbol), ORDER_ALGO, 1)[0]

    def amend_algo_order(
        self,
        symbol: str,
        *,
        algo_id: str | None = None,
        algo_client_order_id: str | None = None,
        new_sz: Decimal | None = None,
        new_sl_trigger_px: Decimal | None = None,
        new_sl_trigger_px_type: str | None = None,
        new_tp_trigger_px: Decimal | None = None,
        new_tp_trigger_px_type: str | None = None,
        req_id: str | None = None,
        cxl_on_fail: bool | None = None,
    ) -> OkxOrderAck:
        """Change a live algo's size or triggers (exchange.payloads.amend_algo_body). An accepted ack is
        not the change: read the algo to know. 51503: it is no longer live; a refused price raises
        OkxStopPriceRefused (and with `cxl_on_fail` OKX cancels the algo)."""
        self._require_armed()
        body = amend_algo_body(
            symbol,
            algo_id=algo_id,
            algo_client_order_id=algo_client_order_id,
            new_sz=new_sz,
            new_sl_trigger_px=new_sl_trigger_px,
            new_sl_trigger_px_type=new_sl_trigger_px_type,
            new_tp_trigger_px=new_tp_trigger_px,
            new_tp_trigger_px_type=new_tp_trigger_px_type,
            req_id=req_id,
            cxl_on_fail=cxl_on_fail,
        )
        return self._acks(self._write(AMEND_ALGOS, body, key=symbol), AMEND_ALGOS, 1)[0]

    def cancel_algo_orders(
        self, symbol: str, algo_ids: Sequence[tuple[str | None, str | None]]
    ) -> list[OkxOrderAck]:
        """Cancel up to 10 algos given as (algoId, algoClOrdId) pairs; one ack per pair. sCode 0 is an
        accepted cancel, not a canceled algo; 51416: it fired already; 51400: canceled, failed or unknown."""
        self._require_armed()
        items = [cancel_algo_item(symbol, algo_id, client_id) for algo_id, client_id in algo_ids]
        if not 1 <= len(items) <= ALGO_CANCEL_MAX:
            raise OkxInvalidRequest(f"cancel-algos takes 1 to {ALGO_CANCEL_MAX} algos, got {len(items)}")
        env = self._write(CANCEL_ALGOS, items, key=symbol, units=len(items))
        return self._acks(env, CANCEL_ALGOS, len(items))

    def list_pending_algos(self, symbol: str | None, ord_type: str = STOP_ORD_TYPES) -> list[OkxAlgoOrder]:
        """Every untriggered algo of `ord_type` (all pages of orders-algo-pending); None: every
        instrument."""
        params = {
            "ordType": ord_type,
            "instType": None if symbol is None else inst_type_of(symbol),
            "instId": symbol,
        }
        algos: dict[str, OkxAlgoOrder] = {}
        pages = self._pages(ORDERS_ALGO_PENDING, params, parse_algo_order, lambda page: page[-1].algoId)
        for page in pages:
            algos.update((a.algoId, a) for a in page)
        return list(algos.values())

    def list_algo_history(
        self,
        symbol: str | None,
        *,
        state: str | None = None,
        algo_id: str | None = None,
        ord_type: str = STOP_ORD_TYPES,
        after: str | None = None,
        limit: int = PAGE_LIMIT,
    ) -> list[OkxAlgoOrder]:
        """One page of ended algos of the last 3 months, newest first: those in `state` (effective,
        canceled, order_failed) or the one `algo_id` (OKX needs one of them). `after` is an algoId cursor."""
        if (state is None) == (algo_id is None) or state not in (None, *ALGO_HISTORY_STATES):
            states = ", ".join(sorted(ALGO_HISTORY_STATES))
            raise OkxInvalidRequest(f"give either a state ({states}) or an algo_id")
        check_limit(limit, PAGE_LIMIT)
        params = {
            "ordType": ord_type,
            "state": state,
            "algoId": algo_id,
            "instType": None if symbol is None else inst_type_of(symbol),
            "instId": symbol,
            "after": after,
            "limit": str(limit),
        }
        return [parse_algo_order(o) for o in objects(self._read(ORDERS_ALGO_HISTORY, params))]

    def get_algo_order(
        self, algo_id: str | None = None, algo_client_order_id: str | None = None
    ) -> OkxAlgoOrder:
        """One algo by algoId (preferred) or algoClOrdId (its latest algo), pending or ended. OKX's
        explicit "does not exist" (51603, 51063) raises OkxOrderNotFound."""
        if algo_id:
            params = {"algoId": algo_id}
        elif algo_client_order_id:
            params = {"algoClOrdId": check_client_order_id(algo_client_order_id)}
        else:
            raise OkxInvalidRequest("get_algo_order needs algo_id or algo_client_order_id")
        algo = parse_algo_order(first_object(self._read(ORDER_ALGO, params)))
        if algo.algoId != algo_id if algo_id else algo.algoClOrdId != algo_client_order_id:
            raise OkxInvalidPayload(
                f"GET order-algo for {params} answered with algo {algo.algoId} ({algo.algoClOrdId})"
            )
        return algo
