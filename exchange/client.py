"""OkxClient: OKX v5 REST over one requests.Session, with typed answers and a three-way POST outcome.

Reads retry with bounded backoff on busy, rate-limit, 5xx and network failures. Writes are sent once:
the only resend is after 50102 (timestamp expired), which OKX answers before applying anything. A write
that may have been applied but gave no explicit answer raises OkxAmbiguousOutcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from exchange.errors import (
    AMBIGUOUS_CODES,
    TIMESTAMP_EXPIRED,
    OkxAmbiguousOutcome,
    OkxApiError,
    OkxError,
    OkxInvalidPayload,
    OkxInvalidRequest,
    OkxNotArmed,
    OkxTimestampError,
    OkxTransportError,
    api_error,
)
from exchange.payloads import (
    cancel_item,
    check_client_order_id,
    close_position_body,
    order_body,
    set_leverage_body,
)
from exchange.ratelimit import RateLimiter
from exchange.records import (
    AccountConfig,
    Balance,
    Candle,
    Instrument,
    Leverage,
    OkxFill,
    OkxOrder,
    OkxOrderAck,
    Position,
    parse_account_config,
    parse_ack,
    parse_balance,
    parse_candle,
    parse_fill,
    parse_instrument,
    parse_leverage,
    parse_order,
    parse_position,
    parse_server_time,
)
from exchange.signing import Signer, iso_timestamp, json_body, mask, request_path
from exchange.wire import Envelope, decode_envelope, first_object, objects

T = TypeVar("T")

DEFAULT_BASE_URL = "https://www.okx.com"
READ_BACKOFF_S = (0.25, 0.5, 1.0)  # so a read is tried at most four times
READ_RETRY_CODES = frozenset({"50001", "50004", "50011", "50013"})
PAGE_LIMIT = 100
MAX_PAGES = 50  # 500 pending orders per instrument is OKX's cap: 5 pages; 50 means something is wrong
BATCH_MAX = 20
CANDLES_MAX = 300

ORDER = "/api/v5/trade/order"
BATCH_ORDERS = "/api/v5/trade/batch-orders"
CANCEL_ORDER = "/api/v5/trade/cancel-order"
CANCEL_BATCH_ORDERS = "/api/v5/trade/cancel-batch-orders"
CLOSE_POSITION = "/api/v5/trade/close-position"
ORDERS_PENDING = "/api/v5/trade/orders-pending"
ORDERS_HISTORY = "/api/v5/trade/orders-history"
ORDERS_HISTORY_ARCHIVE = "/api/v5/trade/orders-history-archive"
FILLS = "/api/v5/trade/fills"
FILLS_HISTORY = "/api/v5/trade/fills-history"
FILLS_RECENT_MS = 3 * 86_400_000 - 3_600_000  # /trade/fills keeps 3 days; an hour's margin for clocks
BALANCE = "/api/v5/account/balance"
POSITIONS = "/api/v5/account/positions"
ACCOUNT_CONFIG = "/api/v5/account/config"
LEVERAGE_INFO = "/api/v5/account/leverage-info"
SET_LEVERAGE = "/api/v5/account/set-leverage"
INSTRUMENTS = "/api/v5/public/instruments"
CANDLES = "/api/v5/market/candles"
SERVER_TIME = "/api/v5/public/time"


def inst_type_of(symbol: str) -> str:
    """OKX's instType for an instId: BTC-USDT-SWAP -> SWAP, BTC-USD-250627 -> FUTURES, BTC-USDT -> SPOT."""
    parts = symbol.split("-")
    if len(parts) == 3 and parts[2] == "SWAP":
        return "SWAP"
    if len(parts) == 3 and parts[2].isdigit():
        return "FUTURES"
    if len(parts) == 5:
        return "OPTION"
    if len(parts) == 2:
        return "SPOT"
    raise OkxInvalidRequest(f"cannot tell the instrument type of {symbol!r}")


class OkxClient:
    """The OKX v5 REST client. Unless `armed`, trading methods raise OkxNotArmed before any I/O.

    `clock` (wall seconds), `monotonic` and `sleep` are injectable so tests control time.
    """

    def __init__(
        self,
        api_key: str,
        secret_key: str,
        passphrase: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        demo: bool = True,
        armed: bool = False,
        timeout: float = 10.0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise OkxInvalidRequest(f"base_url must be scheme://host[:port] only, got {base_url!r}")
        self._base_url = base_url.rstrip("/")
        self._signer = Signer(api_key, secret_key, passphrase, demo=demo)
        self._api_key = api_key
        self._demo = demo
        self._armed = armed
        self._timeout = timeout
        self._session = session if session is not None else requests.Session()
        self._clock = clock
        self._sleep = sleep
        self._limiter = RateLimiter(monotonic=monotonic, sleep=sleep)
        self._offset_ms = 0

    def __repr__(self) -> str:
        return (
            f"OkxClient(base_url={self._base_url!r}, api_key={mask(self._api_key)!r}, "
            f"demo={self._demo}, armed={self._armed})"
        )

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def demo(self) -> bool:
        return self._demo

    @property
    def armed(self) -> bool:
        return self._armed

    def close(self) -> None:
        """Close the underlying session (its pooled connections)."""
        self._session.close()

    # ---- time -------------------------------------------------------------------------------------

    def now_ms(self) -> int:
        """Exchange time: the local clock plus the offset measured by sync_time()."""
        return int(self._clock() * 1000) + self._offset_ms

    def get_server_time(self) -> int:
        return parse_server_time(first_object(self._read(SERVER_TIME, auth=False)))

    def sync_time(self) -> int:
        """Measure the offset to OKX's clock (server time minus the request's local midpoint), in ms."""
        before = self._clock()
        server_ms = self.get_server_time()
        after = self._clock()
        self._offset_ms = server_ms - round((before + after) * 500)
        return self._offset_ms

    # ---- reads ------------------------------------------------------------------------------------

    def list_open_orders(self, symbol: str | None) -> list[OkxOrder]:
        """Every pending order (all pages of orders-pending); None means every instrument."""
        params = {"instType": None if symbol is None else inst_type_of(symbol), "instId": symbol}
        orders: dict[str, OkxOrder] = {}
        for page in self._pages(ORDERS_PENDING, params, parse_order, lambda page: page[-1].ordId):
            orders.update((o.ordId, o) for o in page)
        return list(orders.values())

    def get_order(
        self, symbol: str, ord_id: str | None = None, client_order_id: str | None = None
    ) -> OkxOrder:
        """One order by ordId (preferred) or clOrdId. OKX's explicit 51603 raises OkxOrderNotFound."""
        if ord_id:
            params = {"instId": symbol, "ordId": ord_id}
        elif client_order_id:
            params = {"instId": symbol, "clOrdId": client_order_id}
        else:
            raise OkxInvalidRequest("get_order needs ord_id or client_order_id")
        order = parse_order(first_object(self._read(ORDER, params, key=symbol)))
        if order.instId != symbol or (order.ordId != ord_id if ord_id else order.clOrdId != client_order_id):
            raise OkxInvalidPayload(
                f"GET order for {params} answered with order {order.ordId} "
                f"({order.clOrdId}) of {order.instId}"
            )
        return order

    def list_fills(
        self, symbol: str, *, after: str | None = None, before: str | None = None, limit: int = PAGE_LIMIT
    ) -> list[OkxFill]:
        """One page of fills (last 3 days) in OKX's order; after/before are billId cursors."""
        _check_limit(limit, PAGE_LIMIT)
        params = {
            "instType": inst_type_of(symbol),
            "instId": symbol,
            "after": after,
            "before": before,
            "limit": str(limit),
        }
        return [parse_fill(o) for o in objects(self._read(FILLS, params))]

    def list_orders_history(
        self,
        symbol: str,
        *,
        archive: bool = False,
        after: str | None = None,
        before: str | None = None,
        limit: int = PAGE_LIMIT,
    ) -> list[OkxOrder]:
        """One page of ended orders, newest first: the last 7 days, or 3 months with archive=True.

        after/before are ordId cursors. OKX keeps a canceled order that never filled only about 2 hours.
        """
        _check_limit(limit, PAGE_LIMIT)
        params = {
            "instType": inst_type_of(symbol),
            "instId": symbol,
            "after": after,
            "before": before,
            "limit": str(limit),
        }
        path = ORDERS_HISTORY_ARCHIVE if archive else ORDERS_HISTORY
        return [parse_order(o) for o in objects(self._read(path, params))]

    def list_fills_since(
        self, symbol: str, bill_id: str | None, begin_ms: int | None = None
    ) -> list[OkxFill]:
        """Every fill with billId > bill_id and ts >= begin_ms, ascending by billId.

        /trade/fills covers 3 days: when `begin_ms` is older than that (a long outage, a long hold),
        /trade/fills-history (3 months) is read instead, so a fill is never missed for its age. Without
        either bound, everything /trade/fills still holds.
        """
        if bill_id is not None and not (bill_id.isascii() and bill_id.isdigit()):
            raise OkxInvalidRequest(f"bill_id must be a numeric string, got {bill_id!r}")
        floor = -1 if bill_id is None else int(bill_id)
        newer: dict[str, OkxFill] = {}
        recent = begin_ms is None or self.now_ms() - begin_ms < FILLS_RECENT_MS
        params = {
            "instType": inst_type_of(symbol),
            "instId": symbol,
            "begin": None if begin_ms is None else str(begin_ms),
        }
        path = FILLS if recent else FILLS_HISTORY
        for page in self._pages(path, params, parse_fill, lambda page: min(page, key=_bill).billId):
            newer.update((f.billId, f) for f in page if _bill(f) > floor)
            if any(_bill(f) <= floor for f in page):
                break
        return sorted(newer.values(), key=_bill)

    def find_order_in_history(self, symbol: str, ord_id: str) -> OkxOrder | None:
        """A terminal order looked up in orders-history (7 days), then its archive (3 months).

        For an order GET /trade/order no longer finds. None when neither holds it: OKX keeps a canceled
        order with no fill only about 2 hours anywhere.
        """
        if not (ord_id.isascii() and ord_id.isdigit()):
            raise OkxInvalidRequest(f"ord_id must be a numeric string, got {ord_id!r}")
        for archive in (False, True):  # `after` is exclusive: one past ordId gives ordId itself first
            page = self.list_orders_history(symbol, archive=archive, after=str(int(ord_id) + 1), limit=1)
            found = next((o for o in page if o.ordId == ord_id), None)
            if found is not None:
                return found
        return None

    def get_balance(self) -> Balance:
        return parse_balance(first_object(self._read(BALANCE)))

    def get_positions(self, symbol: str | None = None) -> list[Position]:
        params = {"instType": None if symbol is None else inst_type_of(symbol), "instId": symbol}
        return [parse_position(o) for o in objects(self._read(POSITIONS, params))]

    def get_instrument(self, symbol: str) -> Instrument:
        inst_type = inst_type_of(symbol)
        env = self._read(INSTRUMENTS, {"instType": inst_type, "instId": symbol}, auth=False, key=inst_type)
        for obj in objects(env):
            if obj.get("instId") == symbol:
                return parse_instrument(obj)
        raise OkxInvalidPayload(f"public/instruments did not list {symbol}", excerpt=env.excerpt)

    def get_candles(self, symbol: str, bar: str, limit: int = PAGE_LIMIT) -> list[Candle]:
        """The newest `limit` candles, ascending by ts (the newest may still be forming: confirm False)."""
        _check_limit(limit, CANDLES_MAX)
        env = self._read(CANDLES, {"instId": symbol, "bar": bar, "limit": str(limit)}, auth=False)
        return sorted((parse_candle(row) for row in env.data), key=lambda c: c.ts)

    def get_account_config(self) -> AccountConfig:
        return parse_account_config(first_object(self._read(ACCOUNT_CONFIG)))

    def get_leverage(self, symbol: str, mgn_mode: str) -> list[Leverage]:
        """The leverage of `symbol` in `mgn_mode`: one row, or long and short for isolated long/short."""
        return [
            parse_leverage(o)
            for o in objects(self._read(LEVERAGE_INFO, {"instId": symbol, "mgnMode": mgn_mode}))
        ]

    def set_leverage(
        self, symbol: str, lever: Decimal, mgn_mode: str, pos_side: str | None = None
    ) -> Mapping[str, str]:
        """Set the leverage (posSide only for isolated margin in long/short mode); returns OKX's item.

        Refusals raise their OkxApiError (e.g. 59101/59107 while opening orders rest, 59102 above the
        instrument's maximum); a lost answer is ambiguous: read get_leverage to know.
        """
        self._require_armed()
        return self._write_one(SET_LEVERAGE, set_leverage_body(symbol, lever, mgn_mode, pos_side), symbol)

    # ---- trading ----------------------------------------------------------------------------------

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
    ) -> OkxOrderAck:
        """Place one order. Returns the accepted ack; a refused order raises its OkxApiError subclass.

        `exp_time_ms` (Unix ms, exchange time) is sent as OKX's expTime header: processed later than
        that, the request is refused (50037) and never applied.
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
        cl_ids = [item["clOrdId"] for item in items if "clOrdId" in item]
        if len(set(cl_ids)) != len(cl_ids):
            raise OkxInvalidRequest(f"clOrdIds must be unique within a batch: {cl_ids}")
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
        items = [cancel_item(symbol, ord_id, cl_id) for ord_id, cl_id in order_ids]
        _check_batch(items)
        env = self._write(CANCEL_BATCH_ORDERS, items, key=symbol, units=len(items))
        return self._acks(env, CANCEL_BATCH_ORDERS, len(items))

    def close_position(
        self, symbol: str, pos_side: str, mgn_mode: str, client_order_id: str | None = None
    ) -> Mapping[str, str]:
        """Close a whole position with OKX's reduce-only market close; returns OKX's answer item."""
        self._require_armed()
        return self._write_one(
            CLOSE_POSITION, close_position_body(symbol, pos_side, mgn_mode, client_order_id), symbol
        )

    def _write_one(self, path: str, body: Mapping[str, str], symbol: str) -> Mapping[str, str]:
        """A POST answered by one object for `symbol` (no per-item sCode): refused, ambiguous, or its item."""
        env = self._write(path, body, key=symbol)
        if env.code != "0":
            raise self._api_error(env)
        try:
            item = first_object(env)
            if item.get("instId") != symbol:
                raise OkxInvalidPayload(f"answered for {item.get('instId')!r}")
        except OkxInvalidPayload as exc:
            raise OkxAmbiguousOutcome(f"POST {path}: unreadable answer: {exc}") from exc
        return {k: v for k, v in item.items() if isinstance(v, str)}

    # ---- transport --------------------------------------------------------------------------------

    def _require_armed(self) -> None:
        if not self._armed:
            raise OkxNotArmed("client not armed: trading needs OkxClient(..., armed=True); nothing was sent")

    def _pages(
        self,
        path: str,
        params: Mapping[str, str | None],
        parse: Callable[[Any], T],
        cursor: Callable[[list[T]], str],
    ) -> Iterator[list[T]]:
        """Pages newest first, each next one asked with after=<cursor of the previous page>."""
        after: str | None = None
        for _ in range(MAX_PAGES):
            env = self._read(path, {**params, "after": after, "limit": str(PAGE_LIMIT)})
            page = [parse(o) for o in objects(env)]
            yield page
            if len(page) < PAGE_LIMIT:
                return
            if cursor(page) == after:
                raise OkxInvalidPayload(f"{path}: pagination did not advance past {after}")
            after = cursor(page)
        raise OkxInvalidPayload(f"{path}: more than {MAX_PAGES} pages")

    def _read(
        self,
        path: str,
        params: Mapping[str, str | None] | None = None,
        *,
        auth: bool = True,
        key: str | None = None,
    ) -> Envelope:
        """A GET with code 0, retried with backoff on busy, rate limit, 5xx and network errors."""
        target = request_path(path, params)

        def once() -> Envelope:
            response = self._send("GET", path, target, "", auth=auth, key=key)
            env = decode_envelope(response.status_code, response.content, self._signer.redact)
            if env.code != "0":
                raise self._api_error(env)
            if not 200 <= env.http_status < 300:
                raise OkxInvalidPayload(
                    "code 0 with an error HTTP status", http_status=env.http_status, excerpt=env.excerpt
                )
            return env

        for delay in READ_BACKOFF_S:
            try:
                return self._with_fresh_time(once, auth)
            except OkxError as exc:
                if not _retryable_read(exc):
                    raise
            self._sleep(delay)
        return self._with_fresh_time(once, auth)

    def _write(
        self, path: str, payload: Any, *, key: str, units: int = 1, exp_time_ms: int | None = None
    ) -> Envelope:
        """A POST, sent once; returns envelopes with code 0, 1 or 2 (per-item results follow)."""
        body = json_body(payload)
        extra = {} if exp_time_ms is None else {"expTime": str(exp_time_ms)}

        def once() -> Envelope:
            try:
                response = self._send("POST", path, path, body, auth=True, key=key, units=units, extra=extra)
            except OkxTransportError as exc:
                if not exc.sent:
                    raise
                raise OkxAmbiguousOutcome(f"POST {path}: {exc}; the request may have been applied") from exc
            status = response.status_code
            if status >= 500:
                raise OkxAmbiguousOutcome(
                    f"POST {path}: HTTP {status}; the request may have been applied", http_status=status
                )
            try:
                env = decode_envelope(status, response.content, self._signer.redact)
            except OkxInvalidPayload as exc:
                raise OkxAmbiguousOutcome(
                    f"POST {path}: unreadable answer: {exc}", http_status=status
                ) from exc
            item_codes = [o.get("sCode") for o in env.data if isinstance(o, dict)]
            if env.code in AMBIGUOUS_CODES or AMBIGUOUS_CODES.intersection(item_codes):
                raise OkxAmbiguousOutcome(
                    f"POST {path}: OKX code {env.code} {env.msg!r}, item codes {item_codes}; outcome unknown",
                    http_status=status,
                    code=env.code,
                    items=_readable_acks(env),
                )
            if env.code not in ("0", "1", "2"):
                raise self._api_error(env)
            return env

        return self._with_fresh_time(once, auth=True)

    def _with_fresh_time(self, send: Callable[[], Envelope], auth: bool) -> Envelope:
        """Run `send`; after 50102 (refused before anything applied) re-measure the clock, resend once."""
        try:
            return send()
        except OkxTimestampError as exc:
            if not auth or exc.code != TIMESTAMP_EXPIRED:
                raise
        self.sync_time()
        return send()

    def _send(
        self,
        method: str,
        path: str,
        target: str,
        body: str,
        *,
        auth: bool,
        key: str | None,
        units: int = 1,
        extra: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Sign and send exactly `target` and `body` (plus unsigned `extra` headers such as expTime);
        network failures become OkxTransportError."""
        self._limiter.acquire(f"{method} {path}", key, units)
        if auth:
            headers = self._signer.signed_headers(iso_timestamp(self.now_ms()), method, target, body)
        else:
            headers = self._signer.public_headers()
        headers = {**headers, **(extra or {})}
        request = requests.Request(
            method, self._base_url + target, headers=headers, data=body.encode("utf-8") if body else None
        )
        prepared = self._session.prepare_request(request)
        if prepared.path_url != target or (prepared.body or b"") != body.encode("utf-8"):
            raise OkxInvalidRequest(f"{method} {path}: the HTTP layer would not send what was signed")
        settings = self._session.merge_environment_settings(prepared.url, {}, None, None, None)
        try:
            return self._session.send(prepared, timeout=self._timeout, allow_redirects=False, **settings)
        except requests.RequestException as exc:
            sent = not _never_left(exc)
            raise OkxTransportError(f"{method} {path}: {type(exc).__name__}", sent=sent) from exc

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

    def _api_error(self, env: Envelope, acks: Sequence[OkxOrderAck] = ()) -> OkxApiError:
        """The explicit refusal an envelope carries (class by sCode when items carry one)."""
        first = env.data[0] if env.data and isinstance(env.data[0], dict) else {}
        s_code, s_msg = first.get("sCode"), first.get("sMsg")
        return api_error(
            env.code,
            env.msg,
            env.http_status,
            s_code if isinstance(s_code, str) and s_code else None,
            self._signer.redact(s_msg) if isinstance(s_msg, str) else None,
            acks,
        )


def _bill(fill: OkxFill) -> int:
    return int(fill.billId)


def _readable_acks(env: Envelope) -> list[OkxOrderAck]:
    """The acks of an answer, when they can be read (evidence for an ambiguous outcome)."""
    try:
        return [parse_ack(o) for o in env.data]
    except OkxInvalidPayload:
        return []


def _check_batch(items: Sequence[object]) -> None:
    if not 1 <= len(items) <= BATCH_MAX:
        raise OkxInvalidRequest(f"a batch holds 1 to {BATCH_MAX} orders, got {len(items)}")


def _check_limit(limit: int, maximum: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise OkxInvalidRequest(f"limit must be an int in 1..{maximum}, got {limit!r}")


def _never_left(exc: requests.RequestException) -> bool:
    """True only when no connection was made, so not one byte of the request reached the server."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.InvalidURL):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def _retryable_read(exc: OkxError) -> bool:
    """Busy, rate-limited, 5xx or network trouble: worth another try for a read."""
    if isinstance(exc, OkxTransportError):
        return True
    if isinstance(exc, OkxApiError):
        return exc.code in READ_RETRY_CODES or exc.http_status == 429 or exc.http_status >= 500
    if isinstance(exc, OkxInvalidPayload):
        return exc.http_status is not None and (exc.http_status == 429 or exc.http_status >= 500)
    return False
