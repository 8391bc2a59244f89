"""Test doubles for the OKX client: a scripted recording Session, a fake clock, a loopback server.

Nothing here imports exchange/sim: these tests judge the client on its own.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from exchange import Instrument, OkxClient
from exchange.records import parse_instrument

API_KEY = "test-api-key-0001"
SECRET = "22582BD0CFF14C41EDBF1AB98506286D"  # the docs' example secret (facts sheet section 2)
PASSPHRASE = "Correct-Horse-Battery-9"
T0 = 1_700_000_000.0  # the fake wall clock's start, seconds

ETH_SWAP = {
    "instType": "SWAP",
    "instId": "ETH-USDT-SWAP",
    "uly": "ETH-USDT",
    "instFamily": "ETH-USDT",
    "settleCcy": "USDT",
    "ctVal": "0.1",
    "ctMult": "1",
    "ctValCcy": "ETH",
    "ctType": "linear",
    "tickSz": "0.01",
    "lotSz": "0.01",
    "minSz": "0.01",
    "maxLmtSz": "1000000",
    "maxMktSz": "20000",
    "state": "live",
    "lever": "100",
    "listTime": "1611916828000",
    "baseCcy": "",
    "quoteCcy": "",
    "instIdCode": 10459,
    "futureSettlement": False,
}
BTC_SWAP = {
    **ETH_SWAP,
    "instId": "BTC-USDT-SWAP",
    "uly": "BTC-USDT",
    "instFamily": "BTC-USDT",
    "ctVal": "0.01",
    "ctValCcy": "BTC",
    "tickSz": "0.1",
}


def eth_instrument(**overrides: Any) -> Instrument:
    return parse_instrument({**ETH_SWAP, **overrides})


def order_obj(**overrides: Any) -> dict[str, Any]:
    """A SWAP order as GET order shows it (a live post_only buy with no fill yet)."""
    return {
        "instType": "SWAP",
        "instId": "ETH-USDT-SWAP",
        "ordId": "1752588852617379840",
        "clOrdId": "ertw1700000000000r1a0",
        "tag": "",
        "px": "2991.00",
        "sz": "0.33",
        "ordType": "post_only",
        "side": "buy",
        "posSide": "long",
        "tdMode": "isolated",
        "lever": "3",
        "state": "live",
        "accFillSz": "0",
        "avgPx": "",
        "fillPx": "",
        "fillSz": "0",
        "fillTime": "",
        "tradeId": "",
        "fee": "0",
        "feeCcy": "USDT",
        "cancelSource": "",
        "cancelSourceReason": "",
        "reduceOnly": "false",
        "attachAlgoOrds": [],
        "linkedAlgoOrd": {"algoId": ""},
        "cTime": "1700000000123",
        "uTime": "1700000000123",
        **overrides,
    }


def fill_obj(bill_id: int, **overrides: Any) -> dict[str, Any]:
    """A SWAP maker fill with the given billId."""
    return {
        "instType": "SWAP",
        "instId": "ETH-USDT-SWAP",
        "tradeId": f"9{bill_id}",
        "ordId": "1752588852617379840",
        "clOrdId": "ertw1700000000000r1a0",
        "billId": str(bill_id),
        "subType": "3",
        "tag": "",
        "fillPx": "2991",
        "fillSz": "0.11",
        "side": "buy",
        "posSide": "long",
        "execType": "M",
        "fee": "-0.0065802",
        "feeCcy": "USDT",
        "fillTime": "1700000001000",
        "ts": "1700000001002",
        **overrides,
    }


@dataclass
class Reply:
    status: int
    body: bytes


def okx(data: Any, *, code: str = "0", msg: str = "", status: int = 200, **extra: Any) -> Reply:
    """A well-formed OKX envelope."""
    return Reply(status, json.dumps({"code": code, "msg": msg, "data": data, **extra}).encode())


def raw(status: int, body: str | bytes | dict[str, Any]) -> Reply:
    """Any body at all, e.g. an HTML gateway page or an envelope without `data`."""
    if isinstance(body, dict):
        return Reply(status, json.dumps(body).encode())
    return Reply(status, body.encode() if isinstance(body, str) else body)


Script = Reply | BaseException | Callable[[requests.PreparedRequest], Reply]


class FakeSession(requests.Session):
    """Answers each request with the next scripted reply (or raises it) and records what was sent.

    `always` answers every request (for retries); a request with nothing scripted fails the test.
    """

    def __init__(self, *script: Script, always: Script | None = None) -> None:
        super().__init__()
        self.trust_env = False
        self.sent: list[requests.PreparedRequest] = []
        self._script: deque[Script] = deque(script)
        self._always = always

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        if self._script:
            step = self._script.popleft()
        elif self._always is not None:
            step = self._always
        else:
            raise AssertionError(f"unscripted request {request.method} {request.path_url}")
        if isinstance(step, BaseException):
            raise step
        reply = step if isinstance(step, Reply) else step(request)
        response = requests.Response()
        response.status_code = reply.status
        response._content = reply.body
        response.request = request
        response.url = request.url or ""
        return response

    def paths(self) -> list[str]:
        return [r.path_url for r in self.sent]

    def query(self, i: int = -1) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.sent[i].path_url).query, keep_blank_values=True))

    def body(self, i: int = -1) -> str:
        body = self.sent[i].body
        assert isinstance(body, bytes)
        return body.decode()


class FakeClock:
    """Wall clock, monotonic clock and sleep in one: sleeping advances both clocks."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_client(
    session: requests.Session | None,
    *,
    armed: bool = False,
    demo: bool = True,
    clock: FakeClock | None = None,
    base_url: str = "https://www.okx.com",
    timeout: float = 10.0,
) -> OkxClient:
    clock = clock or FakeClock()
    return OkxClient(
        API_KEY,
        SECRET,
        PASSPHRASE,
        base_url=base_url,
        demo=demo,
        armed=armed,
        timeout=timeout,
        session=session,
        clock=clock.time,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


# A loopback handler returns (status, body) to answer, or None to drop the connection unanswered.
Behaviour = Callable[[Received], tuple[int, bytes] | None]


@contextmanager
def loopback_server(behaviour: Behaviour) -> Iterator[tuple[str, list[Received]]]:
    """A tiny HTTP server on 127.0.0.1; yields its base URL and the requests it received (raw bytes)."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            req = Received(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            received.append(req)
            answer = behaviour(req)
            if answer is None:
                self.close_connection = True
                return
            status, body = answer
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
