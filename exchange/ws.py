"""OKX v5 private WebSocket: login, a channel's subscription and typed pushes, keepalive and reconnect.

Two channels: `orders` (with `positions`) on /ws/v5/private, and `orders-algo` on /ws/v5/business (OKX
serves algo orders there only); one stream class serves either. Demo trading is chosen by the host
(`DEMO_PRIVATE_URL`, wss://wspap.okx.com:8443): the `x-simulated-trading` header selects demo on REST
only. Pushes are hints that make a REST reconcile come sooner, never the truth: nothing is pushed on
subscribe and changes missed while the stream reconnects are not replayed, so after every (re)connect
the caller sweeps REST (orders-pending; for algos orders-algo-pending and history).
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from exchange.errors import (
    OkxApiError,
    OkxAuthError,
    OkxError,
    OkxInvalidPayload,
    OkxInvalidRequest,
    OkxTimestampError,
    OkxTransportError,
)
from exchange.records import OkxAlgoOrder, OkxOrder, parse_algo_order, parse_order
from exchange.signing import Signer, mask

PRIVATE_PATH = "/ws/v5/private"
BUSINESS_PATH = "/ws/v5/business"
LIVE_PRIVATE_URL = f"wss://ws.okx.com:8443{PRIVATE_PATH}"
DEMO_PRIVATE_URL = f"wss://wspap.okx.com:8443{PRIVATE_PATH}"
VERIFY_PATH = "/users/self/verify"
PING_AFTER_S = 25.0  # OKX closes a connection idle for 30 s
PONG_WAIT_S = 5.0
# A WS refusal has no HTTP status of its own: it comes over the upgraded connection (HTTP 101).
WS_STATUS = 101
_TIMESTAMP_CODES = frozenset({"60004", "60006"})
_ERRORS = (OSError, TimeoutError, ConnectionClosed, InvalidHandshake)

R = TypeVar("R")


@dataclass(frozen=True)
class Channel(Generic[R]):
    """A private channel a stream reads: the URL path serving it, what it subscribes, the channel whose
    pushes it yields (others subscribed alongside are only heard) and how one pushed item is parsed."""

    name: str
    path: str
    subscriptions: tuple[Mapping[str, str], ...]
    parse: Callable[[Any], R]


def _parse_pushed_order(item: Any) -> OkxOrder:
    """An `orders` push item with the REST parser: the WS channel says avgPx "0" before any fill, REST
    says ""."""
    if isinstance(item, Mapping) and item.get("avgPx") == "0" and item.get("accFillSz") in ("0", ""):
        item = {**item, "avgPx": ""}
    return parse_order(item)


ORDERS: Channel[OkxOrder] = Channel(
    "orders",
    PRIVATE_PATH,
    ({"channel": "orders", "instType": "SWAP"}, {"channel": "positions", "instType": "SWAP"}),
    _parse_pushed_order,
)
ALGO_ORDERS: Channel[OkxAlgoOrder] = Channel(
    "orders-algo", BUSINESS_PATH, ({"channel": "orders-algo", "instType": "SWAP"},), parse_algo_order
)


def channel_url(private_url: str, channel: Channel[Any]) -> str:
    """The URL serving `channel`, given the private one: OKX pairs /ws/v5/private with /ws/v5/business on
    the same host and port, the query kept (demo's `?brokerId=9999` on both). OkxInvalidRequest when
    `private_url` does not end in /ws/v5/private and `channel` lives elsewhere."""
    if channel.path == PRIVATE_PATH:
        return private_url
    parts = urlsplit(private_url)
    if not parts.path.endswith(PRIVATE_PATH):
        raise OkxInvalidRequest(
            f"cannot derive the {channel.name} URL ({channel.path}) from {private_url!r}: "
            f"its path does not end in {PRIVATE_PATH}"
        )
    path = parts.path[: -len(PRIVATE_PATH)] + channel.path
    return urlunsplit(parts._replace(path=path))


class OkxPrivateStream(Generic[R]):
    """One private WebSocket connection that logs in, subscribes `channel` and yields its pushes, parsed.

    `url` serves the channel (`channel_url` derives the business URL from the private one).

    `now_ms` is the caller's exchange-time source (local clock plus the offset to OKX), so a skewed
    local clock still logs in; `login_ms`, when given, is asked instead at each login (for example
    exchange time measured afresh: a login is refused 30 s off OKX's clock). After a broken
    connection, `receive` reconnects with bounded backoff, logs in and subscribes again; `reconnects`
    counts the successes. OKX pushes nothing on subscribe: what changed before `connect` or while
    reconnecting is the caller's to read over REST. A refused login raises `OkxAuthError`
    (`OkxTimestampError` for a bad timestamp) and is never retried.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        secret_key: str,
        passphrase: str,
        *,
        channel: Channel[R],
        now_ms: Callable[[], int],
        login_ms: Callable[[], int] | None = None,
        ping_after: float = PING_AFTER_S,
        pong_wait: float = PONG_WAIT_S,
        backoff: tuple[float, float] = (0.1, 5.0),
        max_attempts: int = 10,
        open_timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url
        self._channel = channel
        self._api_key = api_key
        self._signer = Signer(api_key, secret_key, passphrase, demo=False)
        self._now_ms = now_ms
        self._login_ms = login_ms or now_ms  # e.g. exchange time measured afresh for each login
        self._ping_after = ping_after
        self._pong_wait = pong_wait
        self._backoff = backoff
        self._max_attempts = max_attempts
        self._open_timeout = open_timeout
        self._sleep = sleep
        self._conn: ClientConnection | None = None
        self._wanted = False  # connect() was called and close() was not
        self._pending: deque[R] = deque()
        self._last_message = time.monotonic()
        self._ping_sent: float | None = None
        self.reconnects = 0
        self.pongs = 0
        self.last_push_at: int | None = None  # exchange ms of the channel's last push

    def __repr__(self) -> str:
        key, channel = mask(self._api_key), self._channel.name
        return (
            f"OkxPrivateStream(url={self._url!r}, channel={channel!r}, api_key={key!r}, "
            f"connected={self.connected})"
        )

    @property
    def url(self) -> str:
        return self._url

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def __enter__(self) -> OkxPrivateStream[R]:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def connect(self) -> None:
        """Open the connection, log in and subscribe; raise OkxTransportError, OkxAuthError, or what
        `login_ms` raised (it may ask REST for the time)."""
        self._wanted = True
        self._open()

    def close(self) -> None:
        """Close the connection for good: `receive` refuses until the next `connect`."""
        self._wanted = False
        self._drop()

    def _open(self) -> None:
        self._drop()
        try:
            opened = connect(self._url, open_timeout=self._open_timeout, ping_interval=None, close_timeout=1)
            # Entered as a context (closed by `_drop`): the form every websockets release accepts unwarned.
            conn = opened.__enter__()
        except (*_ERRORS, InvalidURI) as exc:
            reason = f"WebSocket connect to {self._url} failed: {type(exc).__name__}"
            raise OkxTransportError(reason, sent=False) from None
        try:
            self._handshake(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._last_message = time.monotonic()
        self._ping_sent = None

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _handshake(self, conn: ClientConnection) -> None:
        timestamp = str(self._login_ms() // 1000)
        headers = self._signer.signed_headers(timestamp, "GET", VERIFY_PATH, "")
        login = {
            "apiKey": headers["OK-ACCESS-KEY"],
            "passphrase": headers["OK-ACCESS-PASSPHRASE"],
            "timestamp": timestamp,
            "sign": headers["OK-ACCESS-SIGN"],
        }
        try:
            conn.send(json.dumps({"op": "login", "args": [login]}))
            self._expect(conn, "login")
            subscriptions = self._channel.subscriptions
            conn.send(json.dumps({"op": "subscribe", "args": list(subscriptions)}))
            for _ in subscriptions:
                self._expect(conn, "subscribe")
        except _ERRORS as exc:
            raise OkxTransportError(f"WebSocket login failed: {type(exc).__name__}", sent=True) from None

    def _expect(self, conn: ClientConnection, event: str) -> None:
        """Read until the answer to `event`; pushes before it (none are expected) are queued."""
        while True:
            message = self._decode(conn.recv(timeout=self._open_timeout))
            if message is None:
                continue
            got = message.get("event")
            if got == "error":
                raise self._refusal(message, login=event == "login")
            if got == event:
                return
            self._queue_push(message)

    def _refusal(self, message: Mapping[str, Any], *, login: bool) -> OkxApiError:
        code, msg = str(message.get("code", "")), self._signer.redact(str(message.get("msg", "")))
        if not login:
            return OkxApiError(code, msg, WS_STATUS)
        cls = OkxTimestampError if code in _TIMESTAMP_CODES else OkxAuthError
        return cls(code, msg, WS_STATUS)

    def receive(self, timeout: float) -> R | None:
        """The next record pushed on the channel, or None when none came within `timeout` seconds.

        Sends the text "ping" after `ping_after` idle seconds; a missing "pong", a dropped socket or a
        failed read reconnects (which may take longer than `timeout`).
        """
        if not self._wanted:
            raise OkxTransportError("the stream is not connected: call connect()", sent=False)
        deadline = time.monotonic() + timeout
        while not self._pending:
            now = time.monotonic()
            if now >= deadline:
                return None
            if self._conn is None:
                self._reconnect()
                continue
            try:
                self._pump(self._conn, min(deadline, self._keepalive_due()) - now)
            except _ERRORS:
                self._drop()
        return self._pending.popleft()

    def __iter__(self) -> Iterator[R]:
        """The channel's pushes, forever (each wait is one `ping_after` long)."""
        while True:
            record = self.receive(self._ping_after)
            if record is not None:
                yield record

    def _keepalive_due(self) -> float:
        if self._ping_sent is not None:
            return self._ping_sent + self._pong_wait
        return self._last_message + self._ping_after

    def _pump(self, conn: ClientConnection, wait: float) -> None:
        """Read one message within `wait` seconds, or do what keepalive asks when none came."""
        try:
            text = conn.recv(timeout=max(wait, 0.0))
        except TimeoutError:
            now = time.monotonic()
            if self._ping_sent is not None and now >= self._ping_sent + self._pong_wait:
                raise
            if self._ping_sent is None and now >= self._last_message + self._ping_after:
                conn.send("ping")
                self._ping_sent = now
            return
        self._last_message = time.monotonic()
        self._ping_sent = None
        message = self._decode(text)
        if message is None:
            return
        if message.get("event") == "error":
            raise self._refusal(message, login=False)
        self._queue_push(message)

    def _decode(self, text: str | bytes) -> dict[str, Any] | None:
        """A JSON object, or None for "pong"; anything else raises OkxInvalidPayload."""
        if text == "pong":
            self.pongs += 1
            return None
        try:
            message = json.loads(text)
        except ValueError:
            raise OkxInvalidPayload("ws: not JSON", excerpt=self._signer.redact(str(text))) from None
        if not isinstance(message, dict):
            raise OkxInvalidPayload("ws: expected an object", excerpt=self._signer.redact(str(text)))
        return message

    def _queue_push(self, message: Mapping[str, Any]) -> None:
        """Parse a push of the stream's channel with its REST parser; other channels and events are
        skipped."""
        arg = message.get("arg")
        name = self._channel.name
        if "event" in message or not isinstance(arg, Mapping) or arg.get("channel") != name:
            return
        data = message.get("data")
        if not isinstance(data, list):
            raise OkxInvalidPayload(f"ws {name} push: data is not a list")
        self._pending.extend(self._channel.parse(item) for item in data)
        self.last_push_at = self._now_ms()

    def _reconnect(self) -> None:
        low, high = self._backoff
        for attempt in range(self._max_attempts):
            self._sleep(min(low * 2**attempt, high))
            try:
                self._open()
            except OkxAuthError:
                raise
            except OkxError:  # the venue down, the login time not measurable: the next attempt
                continue
            self.reconnects += 1
            return
        raise OkxTransportError(f"WebSocket reconnect failed {self._max_attempts} times", sent=False)
