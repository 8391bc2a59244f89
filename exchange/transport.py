"""The OKX v5 REST transport under OkxClient: sign, rate-limit and send; retry reads; send writes once.

Reads retry with bounded backoff on busy, rate-limit, 5xx and network failures. Writes are sent once:
the only resend is after 50102 (timestamp expired), which OKX answers before applying anything. A write
that may have been applied but gave no explicit answer raises OkxAmbiguousOutcome. The clock offset
to OKX's time, measured by sync_time(), stamps every signed request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

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
    OkxTimestampError,
    OkxTransportError,
    api_error,
)
from exchange.paths import SERVER_TIME
from exchange.ratelimit import RateLimiter
from exchange.records import OkxOrderAck, parse_ack, parse_server_time
from exchange.signing import Signer, iso_timestamp, json_body, request_path
from exchange.urls import url_problem
from exchange.wire import Envelope, decode_envelope, first_object, objects

T = TypeVar("T")

DEFAULT_BASE_URL = "https://www.okx.com"
READ_BACKOFF_S = (0.25, 0.5, 1.0)  # so a read is tried at most four times
READ_RETRY_CODES = frozenset({"50001", "50004", "50011", "50013"})
PAGE_LIMIT = 100
MAX_PAGES = 50  # 500 pending orders per instrument is OKX's cap: 5 pages; 50 means something is wrong


class OkxTransport:
    """Signed requests to one OKX base URL over one requests.Session, and OKX's clock offset.

    `clock` (wall seconds), `monotonic` and `sleep` are injectable so tests control time. `on_retry`
    (path, error, seconds about to be waited) hears of each read retried, and `on_wait` ("METHOD path",
    seconds waited) of each request held back by a rate limit, for a caller that logs waits.
    `orders_per_minute` is the trader's own order budget (exchange.ratelimit.ORDER_POSTS).
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
        on_retry: Callable[[str, OkxError, float], None] | None = None,
        orders_per_minute: int | None = None,
        on_wait: Callable[[str, float], None] | None = None,
    ) -> None:
        problem = url_problem(base_url)
        if problem is not None:
            raise OkxInvalidRequest(f"base_url must be scheme://host[:port] only: {problem}")
        self._base_url = base_url.rstrip("/")
        self._signer = Signer(api_key, secret_key, passphrase, demo=demo)
        self._api_key = api_key
        self._demo = demo
        self._armed = armed
        self._timeout = timeout
        self._session = session if session is not None else requests.Session()
        self._clock = clock
        self._sleep = sleep
        self._limiter = RateLimiter(monotonic=monotonic, sleep=sleep, orders_per_minute=orders_per_minute)
        self._on_retry = on_retry
        self._on_wait = on_wait
        self._offset_ms = 0

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

    # ---- transport --------------------------------------------------------------------------------

    def wait_for_order_room(self, orders: int) -> None:
        """Wait until the trader's order budget (orders_per_minute) lets `orders` orders go now: called
        before a request's deadline is set, so waiting never uses the deadline up."""
        try:
            waited = self._limiter.room_for_orders(orders)
        except ValueError as exc:  # more orders than the whole budget: never sent
            raise OkxInvalidRequest(str(exc)) from None
        if waited > 0 and self._on_wait is not None:
            self._on_wait(f"{orders} order(s)", waited)

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
                if self._on_retry is not None:
                    self._on_retry(path, exc, delay)
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
        try:
            waited = self._limiter.acquire(f"{method} {path}", key, units)
        except ValueError as exc:  # more units than the whole budget: never sent
            raise OkxInvalidRequest(f"{method} {path}: {exc}") from None
        if waited > 0 and self._on_wait is not None:
            self._on_wait(f"{method} {path}", waited)
        if auth:
            headers = self._signer.signed_headers(iso_timestamp(self.now_ms()), method, target, body)
        else:
            headers = self._signer.public_headers()
        headers = {**headers, **(extra or {})}
        request = requests.Request(
            method, self._base_url + target, headers=headers, data=body.encode("utf-8") if body else None
        )
        prepared = self._prepare(method, path, request)
        if prepared.path_url != target or (prepared.body or b"") != body.encode("utf-8"):
            raise OkxInvalidRequest(f"{method} {path}: the HTTP layer would not send what was signed")
        settings = self._session.merge_environment_settings(prepared.url, {}, None, None, None)
        try:
            return self._session.send(prepared, timeout=self._timeout, allow_redirects=False, **settings)
        except requests.RequestException as exc:
            sent = not _never_left(exc)
            raise OkxTransportError(f"{method} {path}: {type(exc).__name__}", sent=sent) from exc

    def _prepare(self, method: str, path: str, request: requests.Request) -> requests.PreparedRequest:
        """The request as it would be sent. What `requests` refuses to prepare (a credential with a
        control character breaks its header, and the refusal quotes the value) is OkxInvalidRequest,
        nothing sent, its text redacted and raised with no cause or context that would still carry it."""
        try:
            return self._session.prepare_request(request)
        except requests.RequestException as exc:
            refusal = self._signer.redact(f"{type(exc).__name__}: {exc}")
        raise OkxInvalidRequest(f"{method} {path}: the HTTP layer refused the request: {refusal}")

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


def _readable_acks(env: Envelope) -> list[OkxOrderAck]:
    """The acks of an answer, when they can be read (evidence for an ambiguous outcome)."""
    try:
        return [parse_ack(o) for o in env.data]
    except OkxInvalidPayload:
        return []


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
