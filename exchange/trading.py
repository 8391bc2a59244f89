"""OkxClient's trading endpoints: place, cancel and close, set leverage, and Cancel All After.

Each raises OkxNotArmed before any I/O unless the client is armed, and is sent once: an accepted ack
is not a fill or a cancel, a refusal raises its OkxApiError, and an answer that does not say raises
OkxAmbiguousOutcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from exchange.errors import (
    OkxAmbiguousOutcome,
    OkxApiError,
    OkxInvalidPayload,
    OkxInvalidRequest,
    OkxNotArmed,
)
from exchange.paths import (
    BATCH_ORDERS,
    CANCEL_ALL_AFTER,
    CANCEL_BATCH_ORDERS,
    CANCEL_ORDER,
    CLOSE_POSITION,
    ORDER,
    SET_LEVERAGE,
)
from exchange.payloads import (
    BATCH_MAX,
    cancel_all_after_body,
    cancel_item,
    check_client_order_id,
    check_tag,
    close_position_body,
    order_body,
    set_leverage_body,
)
from exchange.records import OkxCancelAllAfter, OkxOrderAck, parse_ack, parse_cancel_all_after
from exchange.transport import OkxTransport
from exchange.wire import Envelope, first_object, objects


class TradingEndpoints(OkxTransport):
    """The POST endpoints of OkxClient that change orders, positions or leverage at OKX."""

    def set_leverage(
        self, symbol: str, lever: Decimal, mgn_mode: str, pos_side: str | None = None
    ) -> Mapping[str, str]:
        """Set the leverage (posSide only for isolated margin in long/short mode); returns OKX's item.

        Refusals raise their OkxApiError (e.g. 59101/59107 while opening orders rest, 59102 above the
        instrument's maximum); a lost answer is ambiguous: read get_leverage to know.
        """
        self._require_armed()
        body = set_leverage_body(symbol, lever, mgn_mode, pos_side)
        return self._write_one(SET_LEVERAGE, body, key=symbol, echoed={"instId": symbol})

    def place_order(
        self,
        symbol: str,
        *,
        side: str,
        ord_type: str,
        sz: Decimal,
        px: Decimal | None = None,
        pos_side: str | None = None,
        td_mode: str = "isolated",
        client_order_id: str | None = None,
        reduce_only: bool | None = None,
        exp_time_ms: int | None = None,
        tag: str | None = None,
    ) -> OkxOrderAck:
        """Place one order. Returns the accepted ack; a refused order raises its OkxApiError subclass.

        `exp_time_ms` (Unix ms, exchange time) is sent as OKX's expTime header: processed later than
        that, the request is refused (50037) and never applied. `tag` marks the order for a tag-level
        Cancel All After.
        """
        self._require_armed()
        body = order_body(
            symbol,
            side=side,
            ord_type=ord_type,
            sz=sz,
            px=px,
            pos_side=pos_side,
            td_mode=td_mode,
            client_order_id=client_order_id,
            reduce_only=reduce_only,
            tag=tag,
        )
        return self._acks(self._write(ORDER, body, key=symbol, exp_time_ms=exp_time_ms), ORDER, 1)[0]

    def place_batch_orders(
        self, symbol: str, payloads: Sequence[Mapping[str, str]], exp_time_ms: int | None = None
    ) -> list[OkxOrderAck]:
        """Place up to 20 rendered orders in one request; one ack per payload (code 0 or 2).

        Code 1 (every item refused) raises OkxApiError with the acks in `.items`. `exp_time_ms` as for
        place_order: after it no item of the request is applied.
        """
        self._require_armed()
        items = [dict(p) for p in payloads]
        _check_batch(items)
        for item in items:
            if item.get("instId") != symbol or not all(isinstance(v, str) for v in item.values()):
                raise OkxInvalidRequest(f"every payload must be for {symbol} with string values: {item}")
            if "clOrdId" in item:
                check_client_order_id(item["clOrdId"])
            if "tag" in item:
                check_tag(item["tag"])
        client_order_ids = [item["clOrdId"] for item in items if "clOrdId" in item]
        if len(set(client_order_ids)) != len(client_order_ids):
            raise OkxInvalidRequest(f"clOrdIds must be unique within a batch: {client_order_ids}")
        env = self._write(BATCH_ORDERS, items, key=symbol, units=len(items), exp_time_ms=exp_time_ms)
        return self._acks(env, BATCH_ORDERS, len(items))

    def cancel_order(
        self, symbol: str, ord_id: str | None = None, client_order_id: str | None = None
    ) -> OkxOrderAck:
        """Ask OKX to cancel one order. An accepted ack is not a cancel: read the order to know."""
        self._require_armed()
        body = cancel_item(symbol, ord_id, client_order_id)
        return self._acks(self._write(CANCEL_ORDER, body, key=symbol), CANCEL_ORDER, 1)[0]

    def cancel_batch_orders(
        self, symbol: str, order_ids: Sequence[tuple[str | None, str | None]]
    ) -> list[OkxOrderAck]:
        """Cancel up to 20 orders given as (ordId, clOrdId) pairs; one ack per pair."""
        self._require_armed()
        items = [cancel_item(symbol, ord_id, client_order_id) for ord_id, client_order_id in order_ids]
        _check_batch(items)
        env = self._write(CANCEL_BATCH_ORDERS, items, key=symbol, units=len(items))
        return self._acks(env, CANCEL_BATCH_ORDERS, len(items))

    def close_position(
        self, symbol: str, pos_side: str, mgn_mode: str, client_order_id: str | None = None
    ) -> Mapping[str, str]:
        """Close a whole position with OKX's reduce-only market close; returns OKX's answer item."""
        self._require_armed()
        body = close_position_body(symbol, pos_side, mgn_mode, client_order_id)
        return self._write_one(CLOSE_POSITION, body, key=symbol, echoed={"instId": symbol})

    def cancel_all_after(
        self, timeout_s: int, tag: str | None, *, account_level: bool = False
    ) -> OkxCancelAllAfter:
        """Arm OKX's dead man's switch for the pending orders placed with `tag`: unless called again
        within `timeout_s` (10-120) seconds, OKX cancels them; 0 disarms it. Each call re-arms; OKX takes
        one a second per tag (the client waits for it) and at most 20 live tags (51071).

        The tag is required: None is the account level, which cancels every pending order of the account
        (other machines' and the trader's own), and is refused before any I/O unless `account_level`.
        Whether algo orders are cancelled too OKX does not say. A refusal raises its OkxApiError; an
        answer that does not say raises OkxAmbiguousOutcome (call again: arming is idempotent).
        """
        self._require_armed()
        body = cancel_all_after_body(timeout_s, tag, account_level=account_level)
        tag_text = body.get("tag", "")
        item = self._write_one(CANCEL_ALL_AFTER, body, key=tag_text, echoed={"tag": tag_text})
        try:
            return parse_cancel_all_after(item)
        except OkxInvalidPayload as exc:
            raise OkxAmbiguousOutcome(f"POST {CANCEL_ALL_AFTER}: unreadable answer: {exc}") from exc

    def _write_one(
        self, path: str, body: Mapping[str, str], *, key: str, echoed: Mapping[str, str]
    ) -> Mapping[str, str]:
        """A POST answered by one object (no per-item sCode) that repeats the `echoed` fields of the
        request: refused, ambiguous, or its item."""
        env = self._write(path, body, key=key)
        if env.code != "0":
            raise self._api_error(env)
        try:
            item = first_object(env)
            for name, value in echoed.items():
                if item.get(name, "") != value:
                    raise OkxInvalidPayload(f"answered with {name} {item.get(name)!r}, not {value!r}")
        except OkxInvalidPayload as exc:
            raise OkxAmbiguousOutcome(f"POST {path}: unreadable answer: {exc}") from exc
        return {k: v for k, v in item.items() if isinstance(v, str)}

    def _require_armed(self) -> None:
        if not self._armed:
            raise OkxNotArmed("client not armed: trading needs OkxClient(..., armed=True); nothing was sent")

    def _acks(self, env: Envelope, path: str, expected: int) -> list[OkxOrderAck]:
        """Per-item results of a place/cancel answer: returned, or raised when every item was refused."""
        if env.code == "1" and not env.data:  # "Operation failed" with no item: refused as a whole
            raise self._api_error(env)
        try:
            acks = [parse_ack(o) for o in objects(env)]
            if len(acks) != expected:
                raise OkxInvalidPayload(f"{len(acks)} results for {expected} orders", excerpt=env.excerpt)
        except OkxInvalidPayload as exc:
            raise OkxAmbiguousOutcome(
                f"POST {path}: unreadable answer: {exc}", http_status=env.http_status, code=env.code
            ) from exc
        if any(a.ok for a in acks):
            return acks
        s_codes = {a.sCode for a in acks}
        if len(s_codes) == 1:
            raise self._api_error(env, acks)
        raise OkxApiError(env.code, self._signer.redact(env.msg), env.http_status, items=acks)


def _check_batch(items: Sequence[object]) -> None:
    if not 1 <= len(items) <= BATCH_MAX:
        raise OkxInvalidRequest(f"a batch holds 1 to {BATCH_MAX} orders, got {len(items)}")
